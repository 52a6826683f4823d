"""Signed playback addresses, verified the way their checker does: CloudFront's with the public key
(valid, expired, tampered, another session's), CSN's own by CSN (the same four), S3's presigned GET."""

import base64
import json
import time
from datetime import timedelta
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from django.test import override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from streaming.live.models import LiveSession
from testing.factories import ContentFactory, UserFactory

pytestmark = pytest.mark.django_db

KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
PEM = KEY.private_bytes(
    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
).decode()
CLOUDFRONT = {
    "CSN_CLOUDFRONT_DOMAIN": "d111111abcdef8.cloudfront.net",
    "CSN_CLOUDFRONT_KEY_PAIR_ID": "K2JCJMDEHXQW5F",
    "CSN_CLOUDFRONT_PRIVATE_KEY": PEM,
}


def start(user, **body) -> dict:
    client = APIClient()
    client.force_authenticate(user)
    response = client.post("/api/v1/playback/", body, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def cloudfront_valid(url: str, now: float | None = None) -> bool:
    """CloudFront's check of a canned-policy URL: the policy rebuilt from the URL and its Expires,
    the signature verified with the public key, Expires in the future."""
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    expires = int(query.pop("Expires")[0])
    signature = query.pop("Signature")[0]
    assert query.pop("Key-Pair-Id") == [CLOUDFRONT["CSN_CLOUDFRONT_KEY_PAIR_ID"]]
    resource = urlunsplit(parts._replace(query=urlencode(query, doseq=True)))
    policy = json.dumps(
        {"Statement": [{"Resource": resource, "Condition": {"DateLessThan": {"AWS:EpochTime": expires}}}]},
        separators=(",", ":"),
    )
    raw = base64.b64decode(signature.replace("-", "+").replace("_", "=").replace("~", "/"))
    try:
        KEY.public_key().verify(raw, policy.encode(), padding.PKCS1v15(), hashes.SHA1())
    except InvalidSignature:
        return False
    return (now or time.time()) < expires


def replace_query(url: str, **params) -> str:
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    return urlunsplit(parts._replace(query=urlencode({**query, **params})))


@override_settings(**CLOUDFRONT)
def test_cloudfront_url_valid_expired_tampered_and_another_session(viewer):
    item = ContentFactory(video_url="https://d111111abcdef8.cloudfront.net/games/7/master.m3u8")
    body = start(viewer, content_id=item.pk)
    url = body["url"]
    assert url.startswith("https://d111111abcdef8.cloudfront.net/games/7/master.m3u8?csn_session=")
    assert parse_qs(urlsplit(url).query)["csn_session"] == [body["session_id"]]
    assert cloudfront_valid(url)
    # expired: a few minutes on (CSN_PLAYBACK_URL_TTL, 300 s)
    assert not cloudfront_valid(url, now=time.time() + 301)
    # tampered: a later Expires, another path
    expires = int(parse_qs(urlsplit(url).query)["Expires"][0])
    assert not cloudfront_valid(replace_query(url, Expires=str(expires + 3600)))
    assert not cloudfront_valid(url.replace("/games/7/", "/games/8/"))
    # another user's session id in this URL: the signature no longer holds
    other = start(UserFactory(), content_id=item.pk)
    assert not cloudfront_valid(replace_query(url, csn_session=other["session_id"]))
    assert cloudfront_valid(other["url"])


@override_settings(**CLOUDFRONT)
def test_cloudfront_signs_storage_keys_and_leaves_third_party_urls_to_csn(viewer):
    from content.models import MediaAsset
    from testing.factories import MediaAssetFactory

    item = ContentFactory(video_url="https://elsewhere.example.com/x.m3u8")
    url = start(viewer, content_id=item.pk)["url"]
    assert url.startswith("http://testserver/api/v1/playback/manifest/")  # CloudFront cannot serve it
    LiveSession.objects.all().delete()
    MediaAssetFactory(
        content=item, status=MediaAsset.Status.READY, content_type="application/vnd.apple.mpegurl", file="media/a.m3u8"
    )
    url = start(viewer, content_id=item.pk)["url"]
    assert url.startswith("https://d111111abcdef8.cloudfront.net/media/a.m3u8?csn_session=") and cloudfront_valid(url)


def test_csn_url_valid_expired_tampered_and_another_session(viewer):
    item = ContentFactory(video_url="https://cdn.example.com/v/1/master.m3u8")
    body = start(viewer, content_id=item.pk)
    path = urlsplit(body["url"]).path
    player = APIClient()  # players fetch manifests without credentials
    assert player.get(path).status_code == 302

    token = path.rstrip("/").rsplit("/", 1)[1]
    session_id, stamp, signature = token.split(":")
    other = start(UserFactory(), content_id=item.pk)["session_id"]
    for forged in (f"{other}:{stamp}:{signature}", f"{session_id}:{stamp}:{signature[:-2]}AA", "x" * 40):
        response = player.get(f"/api/v1/playback/manifest/{forged}/")
        assert (response.status_code, response.json()["code"]) == (403, "bad_signature"), forged

    with override_settings(CSN_PLAYBACK_URL_TTL=0):
        time.sleep(1.1)
        response = player.get(path)
        assert (response.status_code, response.json()["code"]) == (410, "expired_url")


def test_csn_url_stops_with_its_session(viewer):
    item = ContentFactory()
    body = start(viewer, content_id=item.pk)
    path = urlsplit(body["url"]).path
    client = APIClient()
    client.force_authenticate(viewer)
    assert client.delete(f"/api/v1/playback/sessions/{body['session_id']}/").status_code == 204
    response = APIClient().get(path)
    assert (response.status_code, response.json()["code"]) == (410, "session_ended")
    # and one gone silent past the presence timeout
    body = start(viewer, content_id=item.pk)
    LiveSession.objects.filter(pk=body["session_id"]).update(last_heartbeat_at=timezone.now() - timedelta(minutes=5))
    assert APIClient().get(urlsplit(body["url"]).path).status_code == 410


def test_csn_serves_a_local_media_file(viewer, tmp_path, settings):
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    from content.models import MediaAsset
    from testing.factories import MediaAssetFactory

    settings.MEDIA_ROOT = tmp_path
    name = default_storage.save("media/demo/master.m3u8", ContentFile(b"#EXTM3U\n"))
    item = ContentFactory(video_url="")
    MediaAssetFactory(
        content=item, status=MediaAsset.Status.READY, content_type="application/vnd.apple.mpegurl", file=name
    )
    response = APIClient().get(urlsplit(start(viewer, content_id=item.pk)["url"]).path)
    assert response.status_code == 200 and b"".join(response.streaming_content) == b"#EXTM3U\n"


S3 = {
    "STORAGES": {
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": "csn-media",
                "region_name": "us-east-1",
                "access_key": "AKIAEXAMPLE",
                "secret_key": "secret",
                "querystring_auth": True,
            },
        },
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
}


def test_media_on_s3_gets_a_presigned_get(viewer):
    from content.models import MediaAsset
    from testing.factories import MediaAssetFactory

    item = ContentFactory(video_url="")
    MediaAssetFactory(
        content=item, status=MediaAsset.Status.READY, content_type="application/vnd.apple.mpegurl", file="media/g.m3u8"
    )
    with override_settings(**S3):
        url = start(viewer, content_id=item.pk)["url"]
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    assert parts.path.endswith("/media/g.m3u8") and "csn-media" in url
    # a presigned GET (the signature version is botocore's choice) valid CSN_PLAYBACK_URL_TTL seconds
    assert "Signature" in query or "X-Amz-Signature" in query
    if "Expires" in query:
        assert 295 <= int(query["Expires"][0]) - time.time() <= 301
    else:
        assert query["X-Amz-Expires"] == ["300"]
