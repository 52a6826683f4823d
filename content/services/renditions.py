"""Image renditions: each image asset in the widths the apps ask for (CSN_RENDITION_WIDTHS), in WebP and
JPEG, made with Pillow and stored on the configured storage next to the original.

Images are checked before anything is decoded: a file Pillow cannot identify is not an image; an image
of more than CSN_IMAGE_MAX_PIXELS pixels (a decompression bomb: a small file that decodes to gigabytes)
is refused from its header alone. An upload through the admin is checked on the form; one sent straight
to the bucket is checked when its renditions are made, and fails with the reason."""

import io
import logging
import warnings

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from PIL import Image, ImageOps, UnidentifiedImageError

from content.models import MediaAsset, MediaRendition
from content.services.cache import CONTENT, catalogue_changed
from content.services.errors import field_error
from csn.celery import task_queue
from csn.errors import ApplicationError

logger = logging.getLogger(__name__)
RENDITIONS_TASK = "content.tasks.media_renditions"  # the task (content.tasks) that calls renditions_make
FORMATS = {"webp": ("WEBP", {"quality": 80, "method": 4}), "jpeg": ("JPEG", {"quality": 85, "optimize": True})}


def _open(stream) -> Image.Image:
    """The image, its size checked against the pixel limit before any pixel is decoded."""
    limit = settings.CSN_IMAGE_MAX_PIXELS
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            previous, Image.MAX_IMAGE_PIXELS = Image.MAX_IMAGE_PIXELS, limit
            try:
                image = Image.open(stream)
            finally:
                Image.MAX_IMAGE_PIXELS = previous
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise _too_large() from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise ApplicationError(
            "This file is not an image Pillow can read (JPEG, PNG or WebP).",
            code="not_an_image",
            fields=field_error("file", "not_an_image", "Not an image."),
        ) from exc
    width, height = image.size
    if width * height > limit:
        raise _too_large()
    return image


def _too_large() -> ApplicationError:
    return ApplicationError(
        f"The image has more than {settings.CSN_IMAGE_MAX_PIXELS:,} pixels: refused (a decompression bomb, or "
        "a picture far larger than any screen).",
        code="image_too_large",
        fields=field_error("file", "too_many_pixels", "Too many pixels."),
    )


def image_check(file) -> tuple[int, int]:
    """An uploaded image, checked without keeping it: its (width, height); the file is rewound."""
    try:
        image = _open(file)
        image.verify()  # reads the data through; catches truncated and corrupt files
        return image.size
    except ApplicationError:
        raise
    except Exception as exc:
        raise ApplicationError(
            "This image is damaged or truncated.",
            code="not_an_image",
            fields=field_error("file", "corrupt", "Damaged."),
        ) from exc
    finally:
        file.seek(0)


def _renditions(image: Image.Image) -> list[tuple[int, int, str, bytes]]:
    image = ImageOps.exif_transpose(image)
    if image.mode not in ("RGB", "RGBA"):
        image = image.convert("RGBA" if "transparency" in image.info or image.mode in ("LA", "P") else "RGB")
    made = []
    for width in sorted(set(settings.CSN_RENDITION_WIDTHS)):
        width = min(width, image.width)
        height = max(1, round(image.height * width / image.width))
        resized = image.resize((width, height), Image.Resampling.LANCZOS)
        for name, (pil_format, options) in FORMATS.items():
            frame = resized.convert("RGB") if pil_format == "JPEG" else resized
            buffer = io.BytesIO()
            frame.save(buffer, pil_format, **options)
            made.append((width, height, name, buffer.getvalue()))
        if width == image.width:
            break  # never larger than the original
    return made


def renditions_make(*, asset_id: int) -> MediaAsset:
    """Make (again) the renditions of an uploaded image asset; the asset is ready after, or failed with
    the reason. Other assets (videos) are left as they are. Running twice replaces, never duplicates.
    The item the asset belongs to shows them in the API (`images`): its cached answers are dropped."""
    asset = MediaAsset.objects.get(pk=asset_id)
    if not asset.content_type.startswith("image/") or asset.status not in (
        MediaAsset.Status.UPLOADED,
        MediaAsset.Status.READY,
    ):
        return asset
    try:
        with asset.file.storage.open(asset.file.name, "rb") as stream:
            image = _open(stream)
            image.load()
            made = _renditions(image)
    except ApplicationError as exc:
        MediaAsset.objects.filter(pk=asset.pk).update(status=MediaAsset.Status.FAILED, error=exc.message)
        _item_images_changed(asset)
        asset.refresh_from_db()
        return asset
    with transaction.atomic():
        for old in MediaRendition.objects.filter(asset=asset):
            old.file.delete(save=False)
        MediaRendition.objects.filter(asset=asset).delete()
        for width, height, name, data in made:
            rendition = MediaRendition(asset=asset, width=width, height=height, format=name, size_bytes=len(data))
            rendition.file.save(
                f"{asset.pk}-{width}.{'jpg' if name == 'jpeg' else name}", ContentFile(data), save=False
            )
            rendition.save()
        MediaAsset.objects.filter(pk=asset.pk).update(status=MediaAsset.Status.READY, error="")
        _item_images_changed(asset)
    asset.refresh_from_db()
    return asset


def _item_images_changed(asset: MediaAsset) -> None:
    """The item the asset illustrates shows other renditions now: its cached catalogue answers are stale."""
    if asset.content_id is not None:
        catalogue_changed(CONTENT)


def renditions_request(asset: MediaAsset) -> None:
    """After the caller's commit: make the asset's renditions (a Celery task; in-process when embedded)."""
    if asset.content_type.startswith("image/"):
        task_queue(RENDITIONS_TASK, asset.pk)
