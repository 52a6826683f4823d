"""Who has an item open in the Studio: "editing together". Each item page holds a socket on the live
gateway; the gateway calls these on `studio.open` (and every 20 s as the page's heartbeat) and on
`studio.close` or the socket's end. Staff following the topic `studio:<content id>` get `editors`
events: everyone who has the item open now (the same list the topic's snapshot gives)."""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from content.models import Content, ContentEditor
from csn.errors import NotFoundError, PermissionDeniedError
from csn.realtime.publish import publish
from csn.realtime.topics import topic_name

STUDIO = "studio"
EDITORS_EVENT = "editors"


def studio_topic(content_id: int) -> str:
    return topic_name(STUDIO, content_id)


def studio_access(*, user, content_id: int) -> Content:
    """Staff who may view content, on an item that exists; anyone else is refused."""
    may_see = user is not None and (user.has_perm("content.view_content") or user.has_perm("content.change_content"))
    if not (may_see and user.is_staff):
        raise PermissionDeniedError("Only Studio staff may follow an item's editors.", code="not_allowed")
    content = Content.objects.filter(pk=content_id).only("id").first()
    if content is None:
        raise NotFoundError("No such item.", code="not_found")
    return content


def editors_of(*, content_id: int) -> list[dict]:
    """Everyone with the item open now, in the order they opened it: [{id, name}]."""
    since = timezone.now() - timedelta(seconds=settings.STUDIO_EDITOR_TIMEOUT_SECONDS)
    rows = ContentEditor.objects.filter(content_id=content_id, seen_at__gte=since).select_related("user").order_by("id")
    editors: dict[int, dict] = {}
    for row in rows:
        editors.setdefault(row.user_id, {"id": row.user_id, "name": row.user.display_name or row.user.email})
    return list(editors.values())


def _lock(content_id: int) -> None:
    """Opens and closes of one item one at a time (PostgreSQL), so each event lists what its writer saw last."""
    list(Content.objects.select_for_update().filter(pk=content_id).values_list("pk", flat=True))


def _publish_editors(content_id: int) -> None:
    publish(topic=studio_topic(content_id), name=EDITORS_EVENT, data={"editors": editors_of(content_id=content_id)})


def editor_open(*, user, content_id: int, socket: str) -> list[dict]:
    """The socket has the item open (again: a heartbeat). Tells the item's topic when the list changed."""
    studio_access(user=user, content_id=content_id)
    now = timezone.now()
    with transaction.atomic():
        _lock(content_id)
        before = editors_of(content_id=content_id)
        ContentEditor.objects.update_or_create(
            content_id=content_id, socket=socket, defaults={"user": user, "seen_at": now}
        )
        after = editors_of(content_id=content_id)
        if after != before:
            _publish_editors(content_id)
    return after


def editor_close(*, content_id: int, socket: str) -> None:
    """The socket closed the item (or went away)."""
    with transaction.atomic():
        _lock(content_id)
        deleted, _ = ContentEditor.objects.filter(content_id=content_id, socket=socket).delete()
        if deleted:
            _publish_editors(content_id)


def editors_prune() -> int:
    """Forget sockets that stopped saying so (a process that died); beat runs it with the schedule."""
    since = timezone.now() - timedelta(seconds=settings.STUDIO_EDITOR_TIMEOUT_SECONDS)
    deleted, _ = ContentEditor.objects.filter(seen_at__lt=since).delete()
    return deleted
