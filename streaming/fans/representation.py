"""How a notification looks to clients: the API's item and the `notification.created` event alike."""

from csn.representation import datetime_text
from streaming.fans.models import Notification


def notification_data(notification: Notification) -> dict:
    return {
        "id": notification.pk,
        "kind": notification.kind,
        "title": notification.title,
        "body": notification.body,
        "data": notification.data,
        "created_at": datetime_text(notification.created_at),
    }
