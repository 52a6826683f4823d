"""Publishing and unpublishing at a set minute. A publisher schedules; beat runs `schedule_run` every
minute (content.tasks.schedule_run), which makes the due moves through the workflow as the publisher who
scheduled them. Running it twice, or in two workers at once, moves each item once: the workflow's
state check lets one of them through and the other finds nothing left to do."""

import logging
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from content.models import Content, ContentAuditLog
from content.services.audit import content_audit_log_create
from content.services.errors import field_error
from content.services.workflow import content_publish, content_unpublish
from csn.errors import ApplicationError, PermissionDeniedError

logger = logging.getLogger(__name__)
State = Content.State


def _minute(value: datetime | None) -> datetime | None:
    return value.replace(second=0, microsecond=0) if value else None


def content_schedule(
    *, content: Content, actor, publish_at: datetime | None, unpublish_at: datetime | None, now=None
) -> Content:
    """Set (or clear, with None) when the item goes on and off the air, to the minute. Publishers only;
    publication needs the item in review (it is published as reviewed), times must lie ahead, and the
    end after the start."""
    if not actor.has_perm("content.publish_content"):
        raise PermissionDeniedError("Only publishers may schedule.", code="not_allowed")
    now = now or timezone.now()
    publish_at, unpublish_at = _minute(publish_at), _minute(unpublish_at)
    for name, value in (("publish_at", publish_at), ("unpublish_at", unpublish_at)):
        if value is not None and value <= now:
            raise ApplicationError(
                "A schedule must lie in the future.",
                code="schedule_in_past",
                fields=field_error(name, "in_past", "Pick a minute after now."),
            )
    if publish_at and unpublish_at and unpublish_at <= publish_at:
        raise ApplicationError(
            "The item would go off the air before it goes on.",
            code="schedule_inverted",
            fields=field_error("unpublish_at", "before_publish", "Must be after publish at."),
        )
    with transaction.atomic():
        current = Content.objects.select_for_update().get(pk=content.pk)
        if publish_at and current.state != State.IN_REVIEW:
            raise ApplicationError(
                "Only items in review can be scheduled for publication; this one is "
                f"{current.get_state_display().lower()}.",
                code="illegal_schedule",
                fields=field_error("publish_at", "not_in_review", "Submit the item for review first."),
            )
        if unpublish_at and current.state not in (State.IN_REVIEW, State.PUBLISHED):
            raise ApplicationError(
                "Only items in review or published can be scheduled to go off the air.",
                code="illegal_schedule",
                fields=field_error("unpublish_at", "not_on_air", "The item is not on the air."),
            )
        changed = [
            name
            for name, value in (("publish_at", publish_at), ("unpublish_at", unpublish_at))
            if getattr(current, name) != value
        ]
        if not changed:
            return current
        current.publish_at, current.unpublish_at = publish_at, unpublish_at
        current.scheduled_by = actor if (publish_at or unpublish_at) else None
        current.save(update_fields=["publish_at", "unpublish_at", "scheduled_by", "updated_at"])
        when = ", ".join(
            f"{Content._meta.get_field(name).verbose_name} "
            + (f"{timezone.localtime(getattr(current, name)):%Y-%m-%d %H:%M}" if getattr(current, name) else "cleared")
            for name in changed
        )
        content_audit_log_create(
            content=current, actor=actor, action=ContentAuditLog.Action.SCHEDULE, changed_fields=changed, note=when
        )
    return current


def schedule_run(*, now=None) -> dict:
    """Make every move that is due: publish items in review whose `publish at` passed, unpublish
    published items whose `unpublish at` passed. Returns how many of each were made."""
    now = now or timezone.now()
    done = {"published": 0, "unpublished": 0}
    due = [
        ("published", content_publish, Content.objects.filter(state=State.IN_REVIEW, publish_at__lte=now)),
        ("unpublished", content_unpublish, Content.objects.filter(state=State.PUBLISHED, unpublish_at__lte=now)),
    ]
    for outcome, move, queryset in due:
        for content in queryset.select_related("scheduled_by").order_by("pk")[:500]:
            actor = content.scheduled_by
            try:
                if actor is None or not actor.is_active:
                    raise PermissionDeniedError("Whoever scheduled it can no longer publish.", code="not_allowed")
                move(content=content, actor=actor, note="As scheduled.")
                done[outcome] += 1
            except ApplicationError as exc:
                if exc.code == "state_changed":
                    continue  # another run (or a person) moved it first
                logger.warning("schedule: %s of content %s refused: %s", outcome, content.pk, exc.message)
                field = "publish_at" if outcome == "published" else "unpublish_at"
                Content.objects.filter(pk=content.pk).update(**{field: None})  # not retried every minute
    return done
