"""The editorial workflow: which moves exist, who may make them, and making them safely under concurrency."""

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from analytics import events
from content.announcements import ContentPublished, content_published
from content.models import Content, ContentAuditLog
from content.services.audit import content_audit_log_create
from content.services.cache import CONTENT, catalogue_changed
from content.services.errors import field_error
from content.services.revisions import revision_record
from csn.errors import ApplicationError, ConflictError, NotFoundError, PermissionDeniedError

State = Content.State


@dataclass(frozen=True)
class Transition:
    name: str
    sources: tuple[str, ...]
    target: str
    permission: str
    label: str
    needs_reason: bool = False


TRANSITIONS: dict[str, Transition] = {
    t.name: t
    for t in (
        Transition("submit", (State.DRAFT,), State.IN_REVIEW, "content.submit_content", "Submit for review"),
        Transition("publish", (State.IN_REVIEW,), State.PUBLISHED, "content.publish_content", "Approve and publish"),
        Transition("reject", (State.IN_REVIEW,), State.DRAFT, "content.publish_content", "Send back to draft", True),
        Transition("unpublish", (State.PUBLISHED,), State.DRAFT, "content.publish_content", "Unpublish"),
        Transition("archive", (State.DRAFT, State.PUBLISHED), State.ARCHIVED, "content.publish_content", "Archive"),
    )
}


def _transition(*, content: Content, actor, name: str, note: str = "") -> Content:
    """Move an item along the workflow, guarded twice against a concurrent change: a row lock
    (PostgreSQL) and an UPDATE that only matches the state the caller saw (also holds on SQLite)."""
    transition = TRANSITIONS[name]
    if not actor.has_perm(transition.permission):
        raise PermissionDeniedError(f"You may not {transition.label.lower()}.", code="not_allowed")
    observed = content.state
    if observed not in transition.sources:
        allowed = " or ".join(State(s).label.lower() for s in transition.sources)
        raise ApplicationError(
            f"Cannot {transition.label.lower()}: the item is {State(observed).label.lower()}, it must be {allowed}.",
            code="illegal_transition",
        )
    note = (note or "").strip()
    if transition.needs_reason and not note:
        raise ApplicationError(
            "Say why the item goes back to draft.",
            code="reason_required",
            fields=field_error("note", "required", "A reason is required."),
        )
    with transaction.atomic():
        current = Content.objects.select_for_update().filter(pk=content.pk).values_list("state", flat=True).first()
        if current is None:
            raise NotFoundError("This item no longer exists.")
        now = timezone.now()
        updates = {"state": transition.target, "updated_by": actor, "updated_at": now}
        if transition.target == State.PUBLISHED:
            updates.update(published_at=now, review_note="", publish_at=None)
        if observed == State.PUBLISHED:  # off the air: a scheduled unpublish has nothing left to do
            updates["unpublish_at"] = None
        if name == "reject":
            updates.update(review_note=note, publish_at=None)
        matched = 0
        if current == observed:
            matched = Content.objects.filter(pk=content.pk, state=observed).update(**updates)
        if matched != 1:
            raise ConflictError(
                f"Someone changed this item meanwhile: it is now {State(current).label.lower()}.",
                code="state_changed",
            )
        catalogue_changed(CONTENT)  # an UPDATE: no post_save
        content_audit_log_create(
            content=content,
            actor=actor,
            action=ContentAuditLog.Action.TRANSITION,
            from_state=observed,
            to_state=transition.target,
            changed_fields=[f for f in updates if f != "updated_at"],
            note=note,
        )
        summary = ContentAuditLog.TRANSITION_WORDS.get((observed, transition.target), transition.label)
        revision_record(content=content, actor=actor, comment=f"{summary}. {note}".strip())
    for field, value in updates.items():
        setattr(content, field, value)
    return content


def content_submit(*, content: Content, actor, note: str = "") -> Content:
    """draft -> in review (Editors); the note goes to the item's history."""
    return _transition(content=content, actor=actor, name="submit", note=note)


@transaction.atomic
def content_publish(*, content: Content, actor, note: str = "") -> Content:
    """in review -> published (Publishers). Of two concurrent publishes one wins, the other gets a
    ConflictError; one audit row, with the note. Emits `content_published` and announces it to the layers above,
    inside the transaction: what a receiver writes rolls back with a failed publish."""
    content = _transition(content=content, actor=actor, name="publish", note=note)
    events.content_published(
        user_id=actor.pk,
        content_id=content.pk,
        content_type=content.type,
        title=content.title,
        is_premium=content.is_premium,
        tags=content.tags,
    )
    content_published.announce(ContentPublished(content=content))
    return content


def content_reject(*, content: Content, actor, reason: str) -> Content:
    """in review -> draft with a reason the editor sees (Publishers)."""
    return _transition(content=content, actor=actor, name="reject", note=reason)


def content_unpublish(*, content: Content, actor, note: str = "") -> Content:
    """published -> draft: off the air at once (Publishers)."""
    return _transition(content=content, actor=actor, name="unpublish", note=note)


def content_archive(*, content: Content, actor, note: str = "") -> Content:
    """draft or published -> archived, read-only from then on (Publishers)."""
    return _transition(content=content, actor=actor, name="archive", note=note)


def content_transition(*, content: Content, actor, name: str, note: str = "") -> Content:
    """One entry point for admin actions, admin buttons and the API: dispatches to the service above.
    Every transition keeps its note in the item's history (a reason, required, for reject)."""
    if name == "submit":
        return content_submit(content=content, actor=actor, note=note)
    if name == "publish":
        return content_publish(content=content, actor=actor, note=note)
    if name == "reject":
        return content_reject(content=content, actor=actor, reason=note)
    if name == "unpublish":
        return content_unpublish(content=content, actor=actor, note=note)
    if name == "archive":
        return content_archive(content=content, actor=actor, note=note)
    raise ApplicationError(f"Unknown transition {name!r}.", code="unknown_transition")
