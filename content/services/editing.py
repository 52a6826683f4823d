"""Creating and editing items: fields, tags, slugs, validation. State moves only in workflow."""

from datetime import timedelta

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import get_text_list, slugify

from analytics import events
from content.models import Content, ContentAuditLog, Game, Player, Team
from content.services.audit import content_audit_log_create
from content.services.errors import field_error, validation_error
from content.services.fields import EDITABLE_FIELDS, M2M_FIELDS
from content.services.revisions import access_revision, restorable_fields, revision_record, revision_values
from content.services.rights import content_edit_refusal
from csn.errors import ApplicationError, ConflictError, NotFoundError, PermissionDeniedError

State = Content.State


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
    revision_record(content=content, actor=actor, comment="Created")
    events.content_added(user_id=actor.pk, content_id=content.pk, content_type=content.type, title=content.title)


def _pks(values) -> set:
    return {getattr(value, "pk", value) for value in values}


def _file_changed(current, new) -> bool:
    if new is False or new is None or new == "":  # cleared (admin's clear checkbox) or emptied
        return bool(current)
    return getattr(new, "name", new) != current.name or not hasattr(new, "storage")


def content_version(content: Content) -> str:
    """The token of the item as loaded: a save sends it back, and is refused if the item changed since."""
    return content.updated_at.isoformat() if content.updated_at else ""


def content_edit_conflict(*, content_id, loaded_version: str | None) -> ConflictError | None:
    """Why a save of the item loaded at `loaded_version` would overwrite someone's newer save (None: it
    would not): who changed what, and when. No version sent (the API, a script): no check."""
    if not loaded_version:
        return None
    current = Content.objects.filter(pk=content_id).values_list("updated_at", flat=True).first()
    if current is None or current.isoformat() == loaded_version:
        return None
    # The save that made the loaded version wrote its audit row a moment after its timestamp: skip that.
    since = _parse_version(loaded_version) + timedelta(seconds=1)
    newer = list(
        ContentAuditLog.objects.filter(content_id=content_id, created_at__gt=since)
        .select_related("actor")
        .order_by("created_at", "id")[:5]
    )
    said = [
        f"{row.actor_name()} at {timezone.localtime(row.created_at):%H:%M:%S}: {row.summary().lower()}" for row in newer
    ]
    what = get_text_list(said, "and") if said else "someone saved it"
    return ConflictError(
        f"This item was changed after you opened it ({what}). Your changes were not saved; they are still in "
        "the form: reload the item in another tab to see the newer version, then save again.",
        code="edited_meanwhile",
    )


def _parse_version(version: str):
    from django.utils.dateparse import parse_datetime

    return parse_datetime(version) or timezone.now()


def content_update(*, content: Content, actor, loaded_version: str | None = None, **changes) -> Content:
    """Edit fields of an item. Compared with the stored row (not the caller's copy): only real changes
    are saved and audited, with their field names. Refused when the item changed state meanwhile, or,
    given the version it was loaded at, when anyone saved it since (no lost update)."""
    return content_update_as(content=content, actor=actor, changes=changes, loaded_version=loaded_version)


def content_update_as(
    *,
    content: Content,
    actor,
    changes: dict,
    action: str = ContentAuditLog.Action.EDIT,
    note: str = "",
    loaded_version: str | None = None,
    always_record: bool = False,
    check_rights: bool = True,
) -> Content:
    """content_update, audited as `action` with `note` (a restore, a published draft revision)."""
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
        conflict = content_edit_conflict(content_id=current.pk, loaded_version=loaded_version)
        if conflict:
            raise conflict
        refusal = content_edit_refusal(user=actor, content=current) if check_rights else None
        if refusal:
            raise refusal
        changes = dict(changes)
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
        if not changed and not m2m_changes and not always_record:
            return current
        if "slug" in changed and not current.slug:
            current.slug = _unique_slug(current.title, exclude_pk=current.pk)
        _check_content(current)
        current.updated_by = actor
        current.save()
        for name, values in m2m_changes.items():
            getattr(current, name).set(values)
        fields = changed + list(m2m_changes)
        row = content_audit_log_create(content=current, actor=actor, action=action, changed_fields=fields, note=note)
        revision_record(content=current, actor=actor, comment=row.change_message())
    return current


def revision_restore(*, content: Content, version_id, actor, loaded_version: str | None = None) -> Content:
    """Put an earlier revision's fields back as a new revision (the edit rules hold: who may edit the
    item in its state, the version check); audited as a restore naming the revision's date."""
    version = access_revision(content=content, version_id=version_id)
    values = revision_values(version)
    changes = {name: values[name] for name in restorable_fields()}
    changes["game"] = Game.objects.filter(pk=values["game"]).first() if values["game"] else None
    changes["teams"] = list(Team.objects.filter(pk__in=values["teams"]))
    changes["players"] = list(Player.objects.filter(pk__in=values["players"]))
    if changes["thumbnail"] == (content.thumbnail.name or ""):
        del changes["thumbnail"]
    when = timezone.localtime(version.revision.date_created).strftime("%Y-%m-%d %H:%M:%S")
    with transaction.atomic():
        return content_update_as(
            content=content,
            actor=actor,
            changes=changes,
            action=ContentAuditLog.Action.RESTORE,
            note=f"Restored the revision of {when}.",
            loaded_version=loaded_version,
            always_record=True,
        )
