"""Image renditions (Pillow, WebP and JPEG) and the checks before decoding: not an image, bombs."""

import io
import struct
import zlib

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from content.models import MediaAsset
from content.services.media import media_upload
from content.services.renditions import renditions_make
from csn.errors import ApplicationError
from testing.factories import MediaAssetFactory
from testing.images import image_bytes

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("eager_tasks")]


@pytest.fixture
def local_storage(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"}}
    return tmp_path


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims width x height pixels: a few dozen bytes, gigabytes once decoded."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def test_an_uploaded_image_gets_webp_and_jpeg_renditions(editor, local_storage, django_capture_on_commit_callbacks):
    file = SimpleUploadedFile("poster.png", image_bytes(700, 500), content_type="image/png")
    with django_capture_on_commit_callbacks(execute=True):
        asset = media_upload(actor=editor, file=file)
    asset.refresh_from_db()
    assert asset.status == "ready"
    made = {(r.width, r.format): r for r in asset.renditions.all()}
    assert set(made) == {(w, f) for w in (320, 640, 700) for f in ("webp", "jpeg")}  # never wider than the original
    assert made[(320, "jpeg")].height == 229
    for (width, fmt), rendition in made.items():
        with rendition.file.open("rb") as stored:
            image = Image.open(io.BytesIO(stored.read()))
        assert (image.format, image.width) == (fmt.upper(), width)
    renditions_make(asset_id=asset.pk)  # again: replaced, not duplicated
    assert asset.renditions.count() == 6


@pytest.mark.parametrize(
    "data, code",
    [
        (b"this is not a picture", "not_an_image"),
        (image_bytes()[:40], "not_an_image"),  # truncated
        (png_header_only(100_000, 100_000), "image_too_large"),  # a decompression bomb
    ],
)
def test_bad_images_are_refused_before_they_are_stored(editor, local_storage, data, code):
    with pytest.raises(ApplicationError) as exc:
        media_upload(actor=editor, file=SimpleUploadedFile("x.png", data, content_type="image/png"))
    assert exc.value.code == code and "file" in exc.value.fields
    assert not MediaAsset.objects.exists()


def test_the_pixel_limit_holds_below_pillows_own(editor, local_storage, settings):
    settings.CSN_IMAGE_MAX_PIXELS = 10_000
    with pytest.raises(ApplicationError) as exc:
        media_upload(actor=editor, file=SimpleUploadedFile("x.png", image_bytes(200, 200), content_type="image/png"))
    assert exc.value.code == "image_too_large"


def test_a_bad_image_that_went_straight_to_storage_fails_with_the_reason(local_storage):
    asset = MediaAssetFactory(content_type="image/jpeg", status=MediaAsset.Status.UPLOADED)
    asset.file.save("direct.jpg", ContentFile(png_header_only(90_000, 90_000)))
    asset = renditions_make(asset_id=asset.pk)
    assert asset.status == "failed" and "pixels" in asset.error


def test_the_admin_form_says_why_and_serves_renditions(editor, local_storage, django_capture_on_commit_callbacks):
    client = Client()
    client.force_login(editor)
    bomb = SimpleUploadedFile("bomb.png", png_header_only(100_000, 100_000), content_type="image/png")
    page = client.post("/admin/content/mediaasset/add/", {"file": bomb}).content.decode()
    assert "decompression bomb" in page and not MediaAsset.objects.exists()
    good = SimpleUploadedFile("ok.jpg", image_bytes(400, 300, "JPEG"), content_type="image/jpeg")
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post("/admin/content/mediaasset/add/", {"file": good}).status_code == 302
    asset = MediaAsset.objects.get()
    page = client.get(f"/admin/content/mediaasset/{asset.pk}/change/").content.decode()
    rendition = asset.renditions.get(width=320, format="webp")
    assert f"/admin/content/mediaasset/{asset.pk}/renditions/{rendition.pk}/" in page and "320 x 240 WEBP" in page
    served = client.get(f"/admin/content/mediaasset/{asset.pk}/renditions/{rendition.pk}/")
    assert served.status_code == 200 and b"WEBP" in b"".join(served.streaming_content)[:16]


def test_the_item_page_previews_hls_with_the_vendored_player(editor):
    from django.contrib.staticfiles import finders

    from content.admin.shared import HLS_SCRIPTS
    from testing.factories import ContentFactory

    item = ContentFactory(state="draft", video_url="https://cdn.example.com/v/1/master.m3u8")
    client = Client()
    client.force_login(editor)
    page = client.get(f"/admin/content/content/{item.pk}/change/").content.decode()
    assert 'data-hls-src="https://cdn.example.com/v/1/master.m3u8"' in page
    for script in HLS_SCRIPTS:
        assert script in page and finders.find(script)  # served from our static files, no CDN
    assert "cdn.jsdelivr" not in page and "unpkg" not in page
