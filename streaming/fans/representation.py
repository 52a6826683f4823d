"""How a notification looks to clients: the API's item and the `notification.created` event alike."""

from content.spoilers import HIDDEN_TITLE
from csn.representation import datetime_text
from streaming.fans.models import Notification


def notification_reveals(notification: Notification) -> int | None:
    """The game whose result this notification could tell (new highlights, a recap), if any."""
    data = notification.data or {}
    return data.get("game_id") if data.get("reveals_result") else None


def notification_data(notification: Notification, *, hidden: bool = False) -> dict:
    """`hidden`: the viewer holds the game it could reveal (content.spoilers): title and body say nothing."""
    return {
        "id": notification.pk,
        "kind": notification.kind,
        "title": HIDDEN_TITLE if hidden else notification.title,
        "body": "" if hidden else notification.body,
        "data": notification.data,
        "spoiler_hidden": hidden,
        "created_at": datetime_text(notification.created_at),
    }
