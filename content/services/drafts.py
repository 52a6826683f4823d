"""Draft revisions of published items: an editor changes a published item without taking it down. The
changes wait in a ContentDraft, go through review (submit, send back with a reason), and a publisher's
publish applies them to the live item as one new revision; the item stays on the air throughout.

The form's fields are kept as JSON (links by id, dates in ISO 8601); files (the thumbnail) are not
drafted: upload them as media. Every move is audited on the item."""

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils.dateparse import parse_datetime

from content.models import Content, ContentAuditLog, ContentDraft, Game, Player, Team
from content.services.audit import content_audit_log_create
from content.services.editing import EDITABLE_FIELDS, M2M_FIELDS, clean_tags, content_update_as
from content.services.errors import field_error
from csn.errors import ApplicationError, ConflictError, NotFoundError, PermissionDeniedError

DRAFTED_FIELDS = tuple(name for name in (*EDITABLE_FIELDS, *M2M_FIELDS) if name != "thumbnail")
DATE_FIELDS = ("available_from", "available_until")
DraftState = ContentDraft.State


def _to_json(name: str, value):
    if name == "game":
        return getattr(value, "pk", value)
    if name in M2M_FIELDS:
        return sorted(int(getattr(item, "pk", item)) for item in value or [])
    if name == "tags":
        return clean_tags(value)
    if name in DATE_FIELDS:
        return DjangoJSONEncoder().default(value) if value else None
    return value


def draft_values(draft: ContentDraft) -> dict:
    """The draft's changes as the edit service takes them (instances for links, datetimes)."""
    values = {}
    for name, value in draft.changes.items():
        if name == "game":
            value = Game.objects.filter(pk=value).first() if value else None
        elif name == "teams":
            value = list(Team.objects.filter(pk__in=value))
        elif name == "players":
            value = list(Player.objects.filter(pk__in=value))
        elif name in DATE_FIELDS:
            value = parse_datetime(value) if value else None
        values[name] = value
    return values


def _locked(content: Content) -> tuple[Content, ContentDraft | None]:
    current = Content.objects.select_for_update().filter(pk=content.pk).first()
    if current is None:
        raise NotFoundError("This item no longer exists.")
    if current.state != Content.State.PUBLISHED:
        raise ApplicationError("Draft revisions are for published items; edit this one directly.", code="not_published")
    return current, ContentDraft.objects.select_for_update().filter(content=current).first()


def _audit(content, actor, from_state, to_state, fields=(), note=""):
    content_audit_log_create(
        content=content,
        actor=actor,
        action=ContentAuditLog.Action.DRAFT,
        from_state=from_state,
        to_state=to_state,
        changed_fields=list(fields),
        note=note,
    )


def draft_save(*, content: Content, actor, changes: dict) -> ContentDraft:
    """Start or edit the item's draft revision with these field values. Editors edit a draft revision
    in draft, publishers one in review too."""
    if not actor.has_perm("content.change_content"):
        raise PermissionDeniedError("You may not edit content.", code="not_allowed")
    unknown = set(changes) - set(DRAFTED_FIELDS)
    if unknown:
        raise ApplicationError(f"Not editable in a draft revision: {', '.join(sorted(unknown))}.", code="not_editable")
    with transaction.atomic():
        current, draft = _locked(content)
        if draft and draft.state == DraftState.IN_REVIEW and not actor.has_perm("content.publish_content"):
            raise PermissionDeniedError(
                "The draft revision is in review: only publishers may change it.", code="not_allowed"
            )
        merged = dict(draft.changes) if draft else {}
        for name, value in changes.items():
            merged[name] = _to_json(name, value)
        live = {
            name: _to_json(name, getattr(current, name) if name not in M2M_FIELDS else getattr(current, name).all())
            for name in merged
        }
        merged = {name: value for name, value in merged.items() if value != live[name]}
        changed = sorted(
            name for name in merged if (draft.changes if draft else {}).get(name, live[name]) != merged[name]
        )
        if draft is None:
            draft = ContentDraft(content=current, created_by=actor, state=DraftState.DRAFT)
            from_state = ""
        else:
            from_state = draft.state
        if not changed and draft.pk:
            return draft
        draft.changes, draft.updated_by = merged, actor
        draft.save()
        _audit(current, actor, from_state or "", draft.state, changed)
    return draft


def _draft_move(*, content, actor, permission, source, target, note="", reason_required=False) -> ContentDraft:
    if not actor.has_perm(permission):
        raise PermissionDeniedError("You may not do this to a draft revision.", code="not_allowed")
    note = (note or "").strip()
    if reason_required and not note:
        raise ApplicationError(
            "Say why the draft revision goes back.",
            code="reason_required",
            fields=field_error("note", "required", "A reason is required."),
        )
    with transaction.atomic():
        current, draft = _locked(content)
        if draft is None:
            raise NotFoundError("This item has no draft revision.", code="no_draft")
        if draft.state != source:
            raise ConflictError(f"The draft revision is {draft.get_state_display().lower()} now.", code="state_changed")
        draft.state, draft.updated_by = target, actor
        if reason_required:
            draft.review_note = note
        draft.save()
        _audit(current, actor, source, target, note=note)
    return draft


def draft_submit(*, content: Content, actor, note: str = "") -> ContentDraft:
    return _draft_move(
        content=content,
        actor=actor,
        permission="content.submit_content",
        source=DraftState.DRAFT,
        target=DraftState.IN_REVIEW,
        note=note,
    )


def draft_reject(*, content: Content, actor, reason: str) -> ContentDraft:
    return _draft_move(
        content=content,
        actor=actor,
        permission="content.publish_content",
        source=DraftState.IN_REVIEW,
        target=DraftState.DRAFT,
        note=reason,
        reason_required=True,
    )


def draft_discard(*, content: Content, actor) -> None:
    """Drop a draft revision in draft (its author's editors or publishers); the live item is untouched."""
    if not actor.has_perm("content.change_content"):
        raise PermissionDeniedError("You may not edit content.", code="not_allowed")
    with transaction.atomic():
        current, draft = _locked(content)
        if draft is None:
            raise NotFoundError("This item has no draft revision.", code="no_draft")
        if draft.state != DraftState.DRAFT and not actor.has_perm("content.publish_content"):
            raise PermissionDeniedError(
                "The draft revision is in review: only publishers may discard it.", code="not_allowed"
            )
        _audit(current, actor, draft.state, "")
        draft.delete()


def draft_publish(*, content: Content, actor, note: str = "") -> Content:
    """Apply a reviewed draft revision to the live item (publishers): one edit, one new revision,
    audited as the draft revision published; the item never leaves the air."""
    if not actor.has_perm("content.publish_content"):
        raise PermissionDeniedError("Only publishers may publish a draft revision.", code="not_allowed")
    with transaction.atomic():
        current, draft = _locked(content)
        if draft is None:
            raise NotFoundError("This item has no draft revision.", code="no_draft")
        if draft.state != DraftState.IN_REVIEW:
            raise ApplicationError("Submit the draft revision for review first.", code="illegal_transition")
        saved = content_update_as(
            content=current,
            actor=actor,
            changes=draft_values(draft),
            action=ContentAuditLog.Action.DRAFT,
            note=note,
            always_record=True,
        )
        row = saved.audit_log.order_by("-id").first()
        row.from_state, row.to_state = DraftState.IN_REVIEW, "published"
        row.save(update_fields=["from_state", "to_state"])
        draft.delete()
    return saved


# The draft revision's moves as the item page's buttons: name -> (label, permission, the state it needs).
DRAFT_MOVES = {
    "draft_submit": ("Submit draft revision for review", "content.submit_content", DraftState.DRAFT),
    "draft_publish": ("Publish draft revision", "content.publish_content", DraftState.IN_REVIEW),
    "draft_reject": ("Send draft revision back (with a reason)", "content.publish_content", DraftState.IN_REVIEW),
    "draft_discard": ("Discard draft revision", "content.change_content", DraftState.DRAFT),
}


def draft_moves_for(*, user, draft: ContentDraft | None) -> list[tuple[str, str]]:
    """The (name, label) of the moves this user may make on the draft revision now."""
    if draft is None:
        return []
    return [
        (name, label)
        for name, (label, permission, state) in DRAFT_MOVES.items()
        if draft.state == state and user.has_perm(permission)
    ]


def draft_move(*, content: Content, actor, name: str, note: str = "") -> str:
    """One entry point for the item page's buttons; returns what happened, in words."""
    if name == "draft_submit":
        draft_submit(content=content, actor=actor, note=note)
        return "The draft revision is in review."
    if name == "draft_publish":
        draft_publish(content=content, actor=actor, note=note)
        return "The draft revision is published: the live item now shows it."
    if name == "draft_reject":
        draft_reject(content=content, actor=actor, reason=note)
        return "The draft revision went back to its editors."
    if name == "draft_discard":
        draft_discard(content=content, actor=actor)
        return "The draft revision was discarded."
    raise ApplicationError(f"Unknown move {name!r}.", code="unknown_transition")
