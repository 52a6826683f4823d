"""Media assets: uploads through the admin, direct-to-bucket uploads (start, receive, confirm), expiry."""

import hashlib
import mimetypes
import uuid
from datetime import timedelta

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.text import get_valid_filename

from content.models import Content, MediaAsset
from content.services.editing import clean_tags
from content.services.errors import field_error
from content.services.renditions import image_check, renditions_request
from csn.errors import ApplicationError, ConflictError, PermissionDeniedError


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
            fields=field_error("content_type", "unsupported", f"Allowed: {', '.join(sorted(allowed))}."),
        )
    limit = settings.CSN_MEDIA_MAX_UPLOAD_BYTES
    if size_bytes is None or size_bytes <= 0:
        raise ApplicationError(
            "The file is empty.", code="empty_file", fields=field_error("size_bytes", "empty", "Must be > 0.")
        )
    if size_bytes > limit:
        raise ApplicationError(
            f"The file is too large ({size_bytes} bytes; at most {limit}).",
            code="file_too_large",
            fields=field_error("size_bytes", "too_large", f"At most {limit} bytes."),
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
    if content_type.startswith("image/"):
        image_check(file)  # not an image, or a decompression bomb: refused before it is stored
    with transaction.atomic():
        asset.file.save(_upload_name(file.name), file, save=False)
        asset.save()
        renditions_request(asset)
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
            fields=field_error("file", "size_mismatch", "Does not match the declared size."),
        )
    sent_type = getattr(file, "content_type", "")
    if sent_type and sent_type != asset.content_type:
        raise ApplicationError(
            f"The file is {sent_type}, {asset.content_type} was declared.",
            code="type_mismatch",
            fields=field_error("file", "type_mismatch", "Does not match the declared type."),
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
        if not problem:
            renditions_request(asset)
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
