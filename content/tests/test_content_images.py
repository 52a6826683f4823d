"""An item's image in the API (`images`): the renditions of its newest ready image asset, in the list,
the detail and a game's items; [] until they are made; cached answers never show stale ones."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from content.models import MediaAsset, MediaRendition
from content.services.media import media_asset_update, media_upload
from content.services.renditions import renditions_make
from testing.factories import ContentFactory, GameFactory, MediaAssetFactory
from testing.images import image_bytes

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("eager_tasks")]

URL = "/api/v1/content/"


@pytest.fixture
def local_storage(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"}}
    return tmp_path


@pytest.fixture
def upload(editor, django_capture_on_commit_callbacks):
    """An image uploaded for an item as the admin does; its renditions are made after the commit."""

    def upload(item, width=700, height=500, *, name="poster.png"):
        file = SimpleUploadedFile(name, image_bytes(width, height), content_type="image/png")
        with django_capture_on_commit_callbacks(execute=True):
            asset = media_upload(actor=editor, file=file, content=item)
        asset.refresh_from_db()
        return asset

    return upload


def listed(path=URL, **params) -> dict[int, dict]:
    response = APIClient().get(path, params)
    assert response.status_code == 200, response.content
    return {row["id"]: row for row in response.json()["results"]}


def detail(item) -> dict:
    response = APIClient().get(f"{URL}{item.pk}/")
    assert response.status_code == 200, response.content
    return response.json()


def expected(asset: MediaAsset) -> list[dict]:
    return [
        {"width": r.width, "height": r.height, "format": r.format, "url": r.file.url}
        for r in asset.renditions.order_by("width", "format")
    ]


def test_an_item_shows_its_image_in_every_size_and_format(local_storage, upload):
    item = ContentFactory()
    asset = upload(item, 700, 500)
    images = detail(item)["images"]
    assert [(i["width"], i["height"], i["format"]) for i in images] == [
        (320, 229, "jpeg"),
        (320, 229, "webp"),
        (640, 457, "jpeg"),
        (640, 457, "webp"),
        (700, 500, "jpeg"),
        (700, 500, "webp"),
    ]
    assert images == expected(asset)
    for image in images:  # each URL is the stored file
        name = image["url"].removeprefix("/media/")
        assert (local_storage / name).read_bytes()[:4] in (b"RIFF", b"\xff\xd8\xff\xe0", b"\xff\xd8\xff\xdb")
    assert listed()[item.pk]["images"] == images
    game = GameFactory()
    item.game = game
    item.save()
    assert APIClient().get(f"/api/v1/games/{game.pk}/").json()["content"][0]["images"] == images


def test_without_made_renditions_images_is_empty_and_the_thumbnail_stays(local_storage, upload):
    bare = ContentFactory(thumbnail="thumbnails/a.jpg")
    video = ContentFactory()
    MediaAssetFactory(content=video, status=MediaAsset.Status.READY)  # a video: no renditions
    pending = ContentFactory()
    MediaAssetFactory(content=pending, content_type="image/png", status=MediaAsset.Status.UPLOADED)
    rows = listed()
    assert rows[bare.pk]["images"] == [] and rows[bare.pk]["thumbnail_url"] == "/media/thumbnails/a.jpg"
    assert rows[video.pk]["images"] == [] and rows[pending.pk]["images"] == []


def test_a_page_shows_each_items_own_image(local_storage, upload):
    first, second, none = ContentFactory(), ContentFactory(), ContentFactory()
    small, large = upload(first, 300, 200), upload(second, 900, 600)
    rows = listed()
    assert rows[first.pk]["images"] == expected(small) and len(expected(small)) == 2
    assert rows[second.pk]["images"] == expected(large) and len(expected(large)) == 6
    assert rows[none.pk]["images"] == []


def test_the_newest_ready_image_is_shown_and_a_newer_one_in_progress_leaves_it(local_storage, upload):
    item = ContentFactory()
    old = upload(item, 400, 300)
    MediaAssetFactory(content=item, content_type="image/png", status=MediaAsset.Status.UPLOADED)
    assert detail(item)["images"] == expected(old)
    new = upload(item, 500, 250)
    assert detail(item)["images"] == expected(new) != expected(old)


def test_a_hidden_item_shows_no_image_to_viewers(local_storage, upload):
    item = ContentFactory(state="draft")
    upload(item)
    assert APIClient().get(f"{URL}{item.pk}/").status_code == 404
    assert item.pk not in listed()


# --- the catalogue cache -------------------------------------------------------------------------


def test_renditions_made_after_a_cached_read_show_at_once(local_storage, editor):
    item = ContentFactory()
    asset = MediaAssetFactory(content=item, content_type="image/png", status=MediaAsset.Status.UPLOADED)
    asset.file.save("direct.png", SimpleUploadedFile("direct.png", image_bytes(400, 300)))
    assert detail(item)["images"] == [] and listed()[item.pk]["images"] == []  # both now cached
    renditions_make(asset_id=asset.pk)  # the task, as a worker runs it (an UPDATE of the asset)
    assert len(detail(item)["images"]) == 4
    assert listed()[item.pk]["images"] == detail(item)["images"]


def test_renditions_made_again_replace_the_cached_urls(local_storage, upload):
    item = ContentFactory()
    asset = upload(item, 400, 300)
    before = detail(item)["images"]
    renditions_make(asset_id=asset.pk)
    after = detail(item)["images"]
    assert after == expected(asset) and len(after) == len(before)


def test_a_failed_remake_drops_the_image_from_cached_answers(local_storage, upload):
    item = ContentFactory()
    asset = upload(item, 400, 300)
    assert len(listed()[item.pk]["images"]) == 4
    junk = asset.file.storage.save("media/junk.png", SimpleUploadedFile("junk.png", b"not a picture"))
    MediaAsset.objects.filter(pk=asset.pk).update(file=junk)  # the stored original went bad
    assert renditions_make(asset_id=asset.pk).status == "failed"
    assert listed()[item.pk]["images"] == []


def test_moving_or_deleting_an_image_shows_at_once(local_storage, upload, editor):
    item, other = ContentFactory(), ContentFactory()
    asset = upload(item, 400, 300)
    assert len(listed()[item.pk]["images"]) == 4 and listed()[other.pk]["images"] == []
    media_asset_update(asset=asset, actor=editor, folder_path="", tags=[], content=other)
    rows = listed()
    assert rows[item.pk]["images"] == [] and rows[other.pk]["images"] == expected(asset)
    asset.delete()
    assert listed()[other.pk]["images"] == [] and not MediaRendition.objects.exists()
