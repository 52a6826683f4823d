"""Every write to the catalogue: content, its editorial workflow and audit trail, media assets.

Workflow: draft -> in_review -> published -> archived. A reviewer sends an item back to draft with a
reason; a publisher unpublishes (back to draft) or archives. Rights are Django permissions held by the
groups "Editors" (add/change content, submit_content) and "Publishers" (change content,
publish_content); superusers hold every right. A refused action writes nothing, not even an audit row.
"""

import hashlib
import mimetypes
import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import get_valid_filename, slugify

from analytics import events
from content.announcements import ContentPublished, content_published
from content.models import Content, ContentAuditLog, MediaAsset
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


def _field_error(name: str, code: str, message: str) -> dict:
    return {name: [{"code": code, "message": message}]}


def _validation_error(exc: DjangoValidationError) -> ApplicationError:
    fields = {
        name: [{"code": err.code or "invalid", "message": " ".join(err.messages)} for err in errors]
        for name, errors in exc.error_dict.items()
    }
    return ApplicationError("Some fields are invalid.", code="invalid", fields=fields)


# --- rights ---------------------------------------------------------------------------------


def content_edit_refusal(*, user, content: Content) -> ApplicationError | None:
    """Why this user may not edit this item now (None: they may). Drafts are the editors'; items under
    review or on air are the publishers'; archived items are read-only."""
    if not user.has_perm("content.change_content"):
        return PermissionDeniedError("You may not edit content.", code="not_allowed")
    if content.state == State.ARCHIVED:
        return ApplicationError("Archived items are read-only.", code="read_only")
    if content.state != State.DRAFT and not user.has_perm("content.publish_content"):
        return PermissionDeniedError("Only publishers may edit items under review or published.", code="not_allowed")
    return None


def content_transitions_for(*, user, content: Content) -> list[Transition]:
    """The transitions this user may apply to this item in its current state (for buttons)."""
    return [t for t in TRANSITIONS.values() if content.state in t.sources and user.has_perm(t.permission)]


# --- content --------------------------------------------------------------------------------


def clean_tags(tags) -> list[str]:
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
        raise _validation_error(exc) from exc
    if content.available_from and content.available_until and content.available_until <= content.available_from:
        raise ApplicationError(
            "The availability window ends before it starts.",
            code="invalid",
            fields=_field_error("available_until", "window_inverted", "Must be after available_from."),
        )


def _audit(*, content: Content, actor, action: str, from_state="", to_state="", changed_fields=(), note=""):
    return ContentAuditLog.objects.create(
        content=content,
        actor=actor,
        action=action,
        from_state=from_state,
        to_state=to_state,
        changed_fields=list(changed_fields),
        note=note,
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
                fields=_field_error("slug", "unique", "Content with this slug already exists."),
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
    _audit(
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
        _audit(
            content=current,
            actor=actor,
            action=ContentAuditLog.Action.EDIT,
            changed_fields=changed + list(m2m_changes),
        )
    return current


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
            fields=_field_error("note", "required", "A reason is required."),
        )
    with transaction.atomic():
        current = Content.objects.select_for_update().filter(pk=content.pk).values_list("state", flat=True).first()
        if current is None:
            raise NotFoundError("This item no longer exists.")
        now = timezone.now()
        updates = {"state": transition.target, "updated_by": actor, "updated_at": now}
        if transition.target == State.PUBLISHED:
            updates.update(published_at=now, review_note="")
        if name == "reject":
            updates["review_note"] = note
        matched = 0
        if current == observed:
            matched = Content.objects.filter(pk=content.pk, state=observed).update(**updates)
        if matched != 1:
            raise ConflictError(
                f"Someone changed this item meanwhile: it is now {State(current).label.lower()}.",
                code="state_changed",
            )
        _audit(
            content=content,
            actor=actor,
            action=ContentAuditLog.Action.TRANSITION,
            from_state=observed,
            to_state=transition.target,
            changed_fields=[f for f in updates if f != "updated_at"],
            note=note,
        )
    for field, value in updates.items():
        setattr(content, field, value)
    return content


def content_submit(*, content: Content, actor) -> Content:
    """draft -> in review (Editors)."""
    return _transition(content=content, actor=actor, name="submit")


@transaction.atomic
def content_publish(*, content: Content, actor) -> Content:
    """in review -> published (Publishers). Of two concurrent publishes one wins, the other gets a
    ConflictError; one audit row. Emits `content_published` and announces it to the layers above."""
    content = _transition(content=content, actor=actor, name="publish")
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
    """One entry point for admin actions, admin buttons and the API: dispatches to the service above."""
    if name == "submit":
        return content_submit(content=content, actor=actor)
    if name == "publish":
        return content_publish(content=content, actor=actor)
    if name == "reject":
        return content_reject(content=content, actor=actor, reason=note)
    if name == "unpublish":
        return content_unpublish(content=content, actor=actor, note=note)
    if name == "archive":
        return content_archive(content=content, actor=actor, note=note)
    raise ApplicationError(f"Unknown transition {name!r}.", code="unknown_transition")


# --- media ----------------------------------------------------------------------------------


def _s3_storage(storage):
    """The S3 storage when the configured storage is one (direct uploads to the bucket), else None."""
    try:
        from storages.backends.s3 import S3Storage
    except ImportError:  # pragma: no cover - django-storages is a runtime requirement
        return None
    return storage if isinstance(storage, S3Storage) else None


def media_validate(*, content_type: str, size_bytes: int | None) -> None:
    """Allowed type and size, or an ApplicationError naming the field."""
    allowed = settings.CSN_MEDIA_ALLOWED_TYPES
    if content_type not in allowed:
        raise ApplicationError(
            f"Files of type {content_type or 'unknown'} are not accepted.",
            code="unsupported_media_type",
            fields=_field_error("content_type", "unsupported", f"Allowed: {', '.join(sorted(allowed))}."),
        )
    limit = settings.CSN_MEDIA_MAX_UPLOAD_BYTES
    if size_bytes is None or size_bytes <= 0:
        raise ApplicationError(
            "The file is empty.", code="empty_file", fields=_field_error("size_bytes", "empty", "Must be > 0.")
        )
    if size_bytes > limit:
        raise ApplicationError(
            f"The file is too large ({size_bytes} bytes; at most {limit}).",
            code="file_too_large",
            fields=_field_error("size_bytes", "too_large", f"At most {limit} bytes."),
        )


def _require_media_right(actor) -> None:
    if not actor.has_perm("content.add_mediaasset"):
        raise PermissionDeniedError("You may not upload media.", code="not_allowed")


def _upload_name(filename: str) -> str:
    safe = get_valid_filename(filename.rsplit("/", 1)[-1])[:120] or "upload"
    return f"media/uploads/{uuid.uuid4().hex}/{safe}"


def media_upload(*, actor, file, folder_path: str = "", tags=(), content: Content | None = None) -> MediaAsset:
    """A file uploaded through the admin, stored on the configured storage (local or bucket) at once."""
    _require_media_right(actor)
    content_type = getattr(file, "content_type", "") or mimetypes.guess_type(file.name)[0] or ""
    media_validate(content_type=content_type, size_bytes=file.size)
    digest = hashlib.sha256()
    for chunk in file.chunks():
        digest.update(chunk)
    file.seek(0)
    asset = MediaAsset(
        original_name=file.name.rsplit("/", 1)[-1],
        folder_path=folder_path.strip("/"),
        tags=clean_tags(tags),
        size_bytes=file.size,
        content_type=content_type,
        checksum_sha256=digest.hexdigest(),
        status=MediaAsset.Status.UPLOADED,
        uploaded_by=actor,
        content=content,
    )
    with transaction.atomic():
        asset.file.save(_upload_name(file.name), file, save=False)
        asset.save()
    return asset


def media_asset_update(*, asset: MediaAsset, actor, folder_path: str, tags, content: Content | None) -> MediaAsset:
    """Where an asset is filed and which item it belongs to; its bytes never change after upload."""
    if not actor.has_perm("content.change_mediaasset"):
        raise PermissionDeniedError("You may not edit media.", code="not_allowed")
    asset = MediaAsset.objects.get(pk=asset.pk)
    asset.folder_path, asset.tags, asset.content = folder_path.strip("/"), clean_tags(tags), content
    asset.save(update_fields=["folder_path", "tags", "content", "updated_at"])
    return asset


def media_upload_start(
    *,
    actor,
    filename: str,
    content_type: str,
    size_bytes: int,
    folder_path: str = "",
    tags=(),
    content: Content | None = None,
) -> tuple[MediaAsset, dict]:
    """Reserve a pending asset and say how to upload its bytes: a presigned POST to the bucket (S3),
    or our own direct-upload endpoint (local storage). The bucket enforces the declared size."""
    _require_media_right(actor)
    media_validate(content_type=content_type, size_bytes=size_bytes)
    asset = MediaAsset.objects.create(
        file=_upload_name(filename),
        original_name=filename.rsplit("/", 1)[-1][:255],
        folder_path=folder_path.strip("/"),
        tags=clean_tags(tags),
        size_bytes=size_bytes,
        content_type=content_type,
        status=MediaAsset.Status.PENDING,
        uploaded_by=actor,
        content=content,
    )
    storage = _s3_storage(default_storage)
    if storage is None:
        from django.urls import reverse

        upload = {
            "method": "POST",
            "url": reverse("media-upload-direct", kwargs={"pk": asset.pk}),
            "fields": {},
            "file_field": "file",
        }
    else:
        key = storage._normalize_name(asset.file.name)
        presigned = storage.connection.meta.client.generate_presigned_post(
            Bucket=storage.bucket_name,
            Key=key,
            Fields={"Content-Type": content_type},
            Conditions=[{"Content-Type": content_type}, ["content-length-range", size_bytes, size_bytes]],
            ExpiresIn=settings.CSN_MEDIA_UPLOAD_URL_TTL,
        )
        upload = {"method": "POST", "url": presigned["url"], "fields": presigned["fields"], "file_field": "file"}
    return asset, upload


def media_upload_receive(*, actor, asset: MediaAsset, file) -> MediaAsset:
    """Local storage only: the bytes of a pending asset, posted to our direct-upload endpoint."""
    _require_media_right(actor)
    if _s3_storage(default_storage) is not None:
        raise ApplicationError("Upload to the bucket with the presigned URL.", code="direct_upload_unavailable")
    if asset.status != MediaAsset.Status.PENDING:
        raise ConflictError("This upload is already complete.", code="not_pending")
    if file.size != asset.size_bytes:
        raise ApplicationError(
            f"The file has {file.size} bytes, {asset.size_bytes} were declared.",
            code="size_mismatch",
            fields=_field_error("file", "size_mismatch", "Does not match the declared size."),
        )
    sent_type = getattr(file, "content_type", "")
    if sent_type and sent_type != asset.content_type:
        raise ApplicationError(
            f"The file is {sent_type}, {asset.content_type} was declared.",
            code="type_mismatch",
            fields=_field_error("file", "type_mismatch", "Does not match the declared type."),
        )
    digest = hashlib.sha256()
    for chunk in file.chunks():
        digest.update(chunk)
    file.seek(0)
    name = default_storage.save(asset.file.name, file)
    MediaAsset.objects.filter(pk=asset.pk).update(file=name, checksum_sha256=digest.hexdigest())
    asset.file.name, asset.checksum_sha256 = name, digest.hexdigest()
    return asset


def media_upload_confirm(*, actor, asset: MediaAsset) -> MediaAsset:
    """The client says the bytes are in storage: check they are (size, and type on the bucket), then
    uploaded; else failed with the reason, kept on the asset, and an ApplicationError (422)."""
    _require_media_right(actor)
    with transaction.atomic():
        asset = MediaAsset.objects.select_for_update().get(pk=asset.pk)
        if asset.status == MediaAsset.Status.UPLOADED:
            return asset  # a retried confirm
        if asset.status != MediaAsset.Status.PENDING:
            raise ConflictError(f"This upload is {asset.get_status_display().lower()}.", code="not_pending")
        code, problem, actual_size = _media_check_stored(asset)
        if problem:
            asset.status, asset.error = MediaAsset.Status.FAILED, problem
        else:
            asset.status, asset.error, asset.size_bytes = MediaAsset.Status.UPLOADED, "", actual_size
        asset.save(update_fields=["status", "error", "size_bytes", "updated_at"])
    if problem:
        raise ApplicationError(problem, code=code, status=422)
    return asset


def _media_check_stored(asset: MediaAsset) -> tuple[str, str, int | None]:
    """(error code, problem, stored size) of the asset's object in storage; problem '' when it is right."""
    storage = default_storage
    name = asset.file.name
    if not name or not storage.exists(name):
        return "upload_missing", "The file never reached storage.", None
    size = storage.size(name)
    if size != asset.size_bytes:
        return "size_mismatch", f"Stored file has {size} bytes, {asset.size_bytes} were declared.", size
    s3 = _s3_storage(storage)
    if s3 is not None:
        stored_type = s3.bucket.Object(s3._normalize_name(name)).content_type
        if stored_type != asset.content_type:
            return "type_mismatch", f"Stored file is {stored_type}, {asset.content_type} was declared.", size
    return "", "", size


def media_expire_pending(*, older_than_seconds: int | None = None) -> int:
    """Pending uploads whose URL has expired without a confirm become failed, so the admin shows
    them as such instead of waiting forever. Returns how many."""
    ttl = older_than_seconds if older_than_seconds is not None else settings.CSN_MEDIA_UPLOAD_URL_TTL * 2
    cutoff = timezone.now() - timedelta(seconds=ttl)
    return MediaAsset.objects.filter(status=MediaAsset.Status.PENDING, created_at__lt=cutoff).update(
        status=MediaAsset.Status.FAILED,
        error="The upload was never confirmed before its upload URL expired.",
        updated_at=timezone.now(),
    )
