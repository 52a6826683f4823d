"""Media uploads: admin-style uploads and the presign -> upload -> confirm flow, on a real
S3-compatible server (moto in server mode) and on local storage."""

import uuid

import boto3
import pytest
import requests
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from bench.common import free_port
from content.models import MediaAsset
from content.services.media import media_expire_pending, media_upload
from csn.errors import ApplicationError, PermissionDeniedError
from testing.images import image_bytes

VIDEO = b"\x00\x00\x00\x18ftypmp42" + b"x" * 1000


@pytest.fixture(scope="module")
def s3_endpoint():
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def s3_bucket(s3_endpoint, settings):
    bucket = f"csn-test-{uuid.uuid4().hex[:10]}"
    credentials = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing", "region_name": "us-east-1"}
    client = boto3.client("s3", endpoint_url=s3_endpoint, **credentials)
    client.create_bucket(Bucket=bucket)
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": bucket,
                "endpoint_url": s3_endpoint,
                "access_key": "testing",
                "secret_key": "testing",
                "region_name": "us-east-1",
                "file_overwrite": False,
            },
        },
    }
    return client, bucket


@pytest.fixture
def local_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    }
    return tmp_path


@pytest.fixture
def editor_client(editor):
    client = APIClient()
    client.force_authenticate(user=editor)
    return client


def start(client, **overrides):
    body = {"filename": "game7.mp4", "content_type": "video/mp4", "size_bytes": len(VIDEO), **overrides}
    return client.post("/api/v1/media/uploads/", body)


# --- S3 (moto server) -----------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.django_db
def test_presigned_upload_to_the_bucket_then_confirm(s3_bucket, editor_client):
    client, bucket = s3_bucket
    response = start(editor_client, folder_path="sports/basketball/", tags=["Finals"])
    assert response.status_code == 201, response.content
    asset, upload = response.json()["asset"], response.json()["upload"]
    assert asset["status"] == "pending" and asset["folder_path"] == "sports/basketball" and asset["tags"] == ["finals"]
    assert upload["url"].startswith("http://127.0.0.1:")

    sent = requests.post(upload["url"], data=upload["fields"], files={"file": ("game7.mp4", VIDEO)}, timeout=10)
    assert sent.status_code in (200, 201, 204), sent.text

    response = editor_client.post(f"/api/v1/media/{asset['id']}/confirm/")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "uploaded" and response.json()["size_bytes"] == len(VIDEO)
    stored = MediaAsset.objects.get(pk=asset["id"])
    head = client.head_object(Bucket=bucket, Key=stored.file.name)
    assert head["ContentLength"] == len(VIDEO) and head["ContentType"] == "video/mp4"
    # A retried confirm is harmless.
    assert editor_client.post(f"/api/v1/media/{asset['id']}/confirm/").json()["status"] == "uploaded"


@pytest.mark.slow
@pytest.mark.django_db
def test_confirm_without_upload_marks_failed_with_the_reason(s3_bucket, editor_client):
    asset = start(editor_client).json()["asset"]
    response = editor_client.post(f"/api/v1/media/{asset['id']}/confirm/")
    assert response.status_code == 422 and response.json()["error"]["code"] == "upload_missing"
    body = editor_client.get(f"/api/v1/media/{asset['id']}/").json()
    assert body["status"] == "failed" and "never reached storage" in body["error"]
    # A failed upload is not retried by confirming again: start a new one.
    assert editor_client.post(f"/api/v1/media/{asset['id']}/confirm/").status_code == 409


@pytest.mark.slow
@pytest.mark.django_db
def test_confirm_catches_an_object_of_another_size_or_type(s3_bucket, editor_client):
    client, bucket = s3_bucket
    # Written behind the presigned policy's back: confirm still checks what is really stored.
    wrong_size = start(editor_client).json()["asset"]
    key = MediaAsset.objects.get(pk=wrong_size["id"]).file.name
    client.put_object(Bucket=bucket, Key=key, Body=VIDEO[:10], ContentType="video/mp4")
    response = editor_client.post(f"/api/v1/media/{wrong_size['id']}/confirm/")
    assert response.status_code == 422 and response.json()["error"]["code"] == "size_mismatch"

    wrong_type = start(editor_client).json()["asset"]
    key = MediaAsset.objects.get(pk=wrong_type["id"]).file.name
    client.put_object(Bucket=bucket, Key=key, Body=VIDEO, ContentType="application/x-msdownload")
    response = editor_client.post(f"/api/v1/media/{wrong_type['id']}/confirm/")
    assert response.status_code == 422 and response.json()["error"]["code"] == "type_mismatch"
    assert set(MediaAsset.objects.values_list("status", flat=True)) == {"failed"}


@pytest.mark.slow
@pytest.mark.django_db
def test_admin_style_upload_goes_to_the_bucket(s3_bucket, editor):
    client, bucket = s3_bucket
    data = image_bytes()
    file = SimpleUploadedFile("poster.png", data, content_type="image/png")
    asset = media_upload(actor=editor, file=file, folder_path="posters")
    assert asset.status == "uploaded" and asset.size_bytes == len(data) and len(asset.checksum_sha256) == 64
    assert client.head_object(Bucket=bucket, Key=asset.file.name)["ContentLength"] == len(data)
    assert default_storage.exists(asset.file.name)


@pytest.mark.slow
@pytest.mark.django_db
def test_direct_upload_endpoint_is_refused_when_the_bucket_is_configured(s3_bucket, editor_client):
    asset = start(editor_client).json()["asset"]
    file = SimpleUploadedFile("game7.mp4", VIDEO, content_type="video/mp4")
    response = editor_client.post(f"/api/v1/media/{asset['id']}/upload/", {"file": file}, format="multipart")
    assert response.status_code == 400 and response.json()["error"]["code"] == "direct_upload_unavailable"


# --- local storage --------------------------------------------------------------------------


@pytest.mark.django_db
def test_local_storage_upload_flow(local_media, editor_client):
    response = start(editor_client)
    asset, upload = response.json()["asset"], response.json()["upload"]
    assert upload["url"] == f"/api/v1/media/{asset['id']}/upload/" and upload["fields"] == {}
    file = SimpleUploadedFile("game7.mp4", VIDEO, content_type="video/mp4")
    response = editor_client.post(upload["url"], {"file": file}, format="multipart")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "pending"  # until confirmed, like the bucket flow
    response = editor_client.post(f"/api/v1/media/{asset['id']}/confirm/")
    assert response.status_code == 200 and response.json()["status"] == "uploaded"
    stored = MediaAsset.objects.get(pk=asset["id"])
    assert (local_media / stored.file.name).read_bytes() == VIDEO
    assert len(stored.checksum_sha256) == 64
    # The bytes of a finished upload cannot be replaced.
    file = SimpleUploadedFile("game7.mp4", VIDEO, content_type="video/mp4")
    response = editor_client.post(upload["url"], {"file": file}, format="multipart")
    assert response.status_code == 409


@pytest.mark.django_db
def test_local_direct_upload_of_other_bytes_than_declared(local_media, editor_client):
    asset = start(editor_client).json()["asset"]
    url = f"/api/v1/media/{asset['id']}/upload/"
    short = SimpleUploadedFile("game7.mp4", VIDEO[:10], content_type="video/mp4")
    response = editor_client.post(url, {"file": short}, format="multipart")
    assert response.status_code == 400 and response.json()["error"]["code"] == "size_mismatch"
    exe = SimpleUploadedFile("game7.mp4", VIDEO, content_type="application/x-msdownload")
    response = editor_client.post(url, {"file": exe}, format="multipart")
    assert response.status_code == 400 and response.json()["error"]["code"] == "type_mismatch"
    assert not list(local_media.rglob("*.mp4"))
    response = editor_client.post(f"/api/v1/media/{asset['id']}/confirm/")
    assert response.status_code == 422 and response.json()["error"]["code"] == "upload_missing"


@pytest.mark.django_db
def test_admin_style_upload_to_local_storage(local_media, editor):
    file = SimpleUploadedFile("clip.mp4", VIDEO, content_type="video/mp4")
    asset = media_upload(actor=editor, file=file)
    assert asset.status == "uploaded" and (local_media / asset.file.name).read_bytes() == VIDEO


# --- bad requests (storage-independent) -----------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("overrides", "code", "field"),
    [
        ({"size_bytes": 2_000_001}, "file_too_large", "size_bytes"),
        ({"content_type": "application/x-msdownload"}, "unsupported_media_type", "content_type"),
        ({"size_bytes": 0}, "invalid", "size_bytes"),
        ({"filename": ""}, "invalid", "filename"),
    ],
)
def test_bad_upload_requests_are_refused_and_write_nothing(
    local_media, settings, editor_client, overrides, code, field
):
    settings.CSN_MEDIA_MAX_UPLOAD_BYTES = 2_000_000
    response = start(editor_client, **overrides)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == code and field in error["fields"]
    assert not MediaAsset.objects.exists()


@pytest.mark.django_db
def test_unknown_asset_is_404(local_media, editor_client):
    for path in ("", "confirm/", "upload/"):
        method = editor_client.get if not path else editor_client.post
        response = method(f"/api/v1/media/424242/{path}")
        assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"


@pytest.mark.django_db
def test_only_editors_and_publishers_handle_media(local_media, viewer, staff_without_role, publisher):
    for user in (viewer, staff_without_role):
        client = APIClient()
        client.force_authenticate(user=user)
        assert start(client).status_code == 403
    assert start(APIClient()).status_code in (401, 403)
    client = APIClient()
    client.force_authenticate(user=publisher)
    assert start(client).status_code == 201
    with pytest.raises(PermissionDeniedError):
        media_upload(actor=viewer, file=SimpleUploadedFile("a.mp4", VIDEO, content_type="video/mp4"))


@pytest.mark.django_db
def test_admin_style_upload_of_a_wrong_type_is_refused(local_media, editor):
    with pytest.raises(ApplicationError) as exc:
        media_upload(actor=editor, file=SimpleUploadedFile("a.exe", b"MZ", content_type="application/x-dosexec"))
    assert exc.value.code == "unsupported_media_type"
    assert not MediaAsset.objects.exists() and not list(local_media.rglob("*"))


@pytest.mark.django_db
def test_unconfirmed_uploads_expire_to_failed(local_media, editor_client, settings):
    from datetime import timedelta

    from django.utils import timezone

    from content import tasks

    old, fresh = start(editor_client).json()["asset"], start(editor_client).json()["asset"]
    MediaAsset.objects.filter(pk=old["id"]).update(created_at=timezone.now() - timedelta(hours=3))
    settings.CSN_MEDIA_UPLOAD_URL_TTL = 3600
    assert tasks.media_expire_pending() == 1  # the beat job, run in-process
    assert media_expire_pending() == 0
    statuses = dict(MediaAsset.objects.values_list("pk", "status"))
    assert statuses == {old["id"]: "failed", fresh["id"]: "pending"}
    assert "expired" in MediaAsset.objects.get(pk=old["id"]).error
