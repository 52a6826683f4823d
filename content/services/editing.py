"""Creating and editing items: fields, tags, slugs, validation. State moves only in workflow."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.utils.text import slugify

from analytics import events
from content.models import Content, ContentAuditLog
from content.services.audit import content_audit_log_create
from content.services.errors import field_error, validation_error
from content.services.rights import content_edit_refusal
from csn.errors import ApplicationError, ConflictError, NotFoundError, PermissionDeniedError

State = Content.State

# Fields an editor sets directly; state, published_at and review_note only move through transitions.
EDITABLE_FIELDS = (
    "title",
    "slug",
    "type",
    "description",
    "year",
    "runtime_seconds",
    "tags",
    "thumbnail",
    "video_url",
    "is_premium",
    "available_from",
    "available_until",
    "game",
)
M2M_FIELDS = ("teams", "players")


def clean_tags(tags) -> list[str]:
    """Lower-case, stripped, without blanks or repeats, in the order given; a string is comma-separated."""
    if isinstance(tags, str):
        tags = tags.split(",")
    cleaned: list[str] = []
    for tag in tags or []:
        tag = str(tag).strip().lower()
        if tag and tag not in cleaned:
            cleaned.append(tag)
    return cleaned


def _unique_slug(title: str, *, exclude_pk=None) -> str:
    base = (slugify(title) or "item")[:200]
    candidate, n = base, 1
    while Content.objects.filter(slug=candidate).exclude(pk=exclude_pk).exists():
        n += 1
        candidate = f"{base}-{n}"
    return candidate


def _check_content(content: Content) -> None:
    try:
        content.full_clean(exclude=["created_by", "updated_by"], validate_unique=True)
    except DjangoValidationError as exc:
        raise validation_error(exc) from exc
    if content.available_from and content.available_until and content.available_until <= content.available_from:
        raise ApplicationError(
            "The availability window ends before it starts.",
            code="invalid",
            fields=field_error("available_until", "window_inverted", "Must be after available_from."),
        )


def content_create(
    *,
    actor,
    title: str,
    type: str,
    slug: str = "",
    description: str = "",
    year: int | None = None,
    runtime_seconds: int = 0,
    tags=(),
    thumbnail=None,
    video_url: str = "",
    is_premium: bool = False,
    available_from=None,
    available_until=None,
    game=None,
    teams=(),
    players=(),
) -> Content:
    """A new draft. Needs the add right (Editors); audited as created; emits `content_added`."""
    if not actor.has_perm("content.add_content"):
        raise PermissionDeniedError("You may not create content.", code="not_allowed")
    content = Content(
        title=title,
        slug=slug or _unique_slug(title),
        type=type,
        description=description,
        year=year,
        runtime_seconds=runtime_seconds or 0,
        tags=clean_tags(tags),
        video_url=video_url,
        is_premium=is_premium,
        available_from=available_from,
        available_until=available_until,
        game=game,
        state=State.DRAFT,
        created_by=actor,
        updated_by=actor,
    )
    if thumbnail:
        content.thumbnail = thumbnail
    _check_content(content)
    try:
        with transaction.atomic():
            _content_create_rows(content=content, actor=actor, teams=teams, players=players)
    except IntegrityError as exc:  # lost a race for the same slug
        if Content.objects.filter(slug=content.slug).exists():
            raise ApplicationError(
                "Another item already uses this slug.",
                code="invalid",
                fields=field_error("slug", "unique", "Content with this slug already exists."),
            ) from exc
        raise
    return content


def _content_create_rows(*, content: Content, actor, teams, players) -> None:
    content.save()
    if teams:
        content.teams.set(teams)
    if players:
        content.players.set(players)
    set_fields = [name for name in EDITABLE_FIELDS if getattr(content, name) not in (None, "", [], 0, False)]
    set_fields += [name for name, value in (("teams", teams), ("players", players)) if value]
    content_audit_log_create(
        content=content,
        actor=actor,
        action=ContentAuditLog.Action.CREATE,
        to_state=State.DRAFT,
        changed_fields=set_fields,
    )
    events.content_added(user_id=actor.pk, content_id=content.pk, content_type=content.type, title=content.title)


def _pks(values) -> set:
    return {getattr(value, "pk", value) for value in values}


def _file_changed(current, new) -> bool:
    if new is False or new is None or new == "":  # cleared (admin's clear checkbox) or emptied
        return bool(current)
    return getattr(new, "name", new) != current.name or not hasattr(new, "storage")


def content_update(*, content: Content, actor, **changes) -> Content:
    """Edit fields of an item. Compared with the stored row (not the caller's copy): only real changes
    are saved and audited, with their field names. Refused when the item changed state meanwhile."""
    unknown = set(changes) - set(EDITABLE_FIELDS) - set(M2M_FIELDS)
    if unknown:
        raise ApplicationError(f"Not editable: {', '.join(sorted(unknown))}.", code="not_editable")
    with transaction.atomic():
        current = Content.objects.select_for_update().filter(pk=content.pk).first()
        if current is None:
            raise NotFoundError("This item no longer exists.")
        if current.state != content.state:
            raise ConflictError(
                f"Someone changed this item meanwhile: it is now {current.get_state_display().lower()}.",
                code="state_changed",
            )
        refusal = content_edit_refusal(user=actor, content=current)
        if refusal:
            raise refusal
        if "tags" in changes:
            changes["tags"] = clean_tags(changes["tags"])
        changed: list[str] = []
        for name in EDITABLE_FIELDS:
            if name not in changes:
                continue
            new = changes[name]
            if name == "thumbnail":
                if _file_changed(current.thumbnail, new):
                    current.thumbnail = new or ""
                    changed.append(name)
            elif name == "game":
                if getattr(new, "pk", new) != current.game_id:
                    current.game = new
                    changed.append(name)
            elif getattr(current, name) != new:
                setattr(current, name, new)
                changed.append(name)
        m2m_changes = {
            name: changes[name]
            for name in M2M_FIELDS
            if name in changes and _pks(changes[name]) != _pks(getattr(current, name).all())
        }
        if not changed and not m2m_changes:
            return current
        if "slug" in changed and not current.slug:
            current.slug = _unique_slug(current.title, exclude_pk=current.pk)
        _check_content(current)
        current.updated_by = actor
        current.save()
        for name, values in m2m_changes.items():
            getattr(current, name).set(values)
        content_audit_log_create(
            content=current,
            actor=actor,
            action=ContentAuditLog.Action.EDIT,
            changed_fields=changed + list(m2m_changes),
        )
    return current
