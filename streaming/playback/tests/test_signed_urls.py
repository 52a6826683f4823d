"""Signed playback addresses, verified the way their checker does: CloudFront's with the public key
(valid, expired, tampered, another session's), CSN's own by CSN (the same four), S3's presigned GET."""

import base64
import hashlib
import hmac
import json
import posixpath
import re
import time
from datetime import timedelta
from unittest import mock
from urllib.parse import parse_qs, parse_qsl, quote, urlencode, urlsplit, urlunsplit

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


def _cloudfront_b64decode(text: str) -> bytes:
    return base64.b64decode(text.replace("-", "+").replace("_", "=").replace("~", "/"))


def cloudfront_valid(url: str, now: float | None = None) -> bool:
    """CloudFront's check of a signed URL with a custom policy: the policy's signature verified with the
    public key, the URL (without the signing parameters) matching its resource (`*` any characters, `?`
    one), its DateLessThan in the future."""
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    policy = _cloudfront_b64decode(query.pop("Policy")[0])
    signature = _cloudfront_b64decode(query.pop("Signature")[0])
    assert query.pop("Key-Pair-Id") == [CLOUDFRONT["CSN_CLOUDFRONT_KEY_PAIR_ID"]]
    try:
        KEY.public_key().verify(signature, policy, padding.PKCS1v15(), hashes.SHA1())
    except InvalidSignature:
        return False
    (statement,) = json.loads(policy)["Statement"]
    pattern = re.escape(statement["Resource"]).replace(r"\*", ".*").replace(r"\?", ".")
    requested = urlunsplit(parts._replace(query=urlencode(query, doseq=True)))
    if not re.fullmatch(pattern, requested):
        return False
    return (now or time.time()) < statement["Condition"]["DateLessThan"]["AWS:EpochTime"]


def beside(url: str, name: str) -> str:
    """The address a player derives for `name` relative to the manifest `url`, the signing query appended."""
    parts = urlsplit(url)
    query = {k: v for k, v in parse_qs(parts.query).items() if k in ("Policy", "Signature", "Key-Pair-Id")}
    return urlunsplit(
        parts._replace(path=posixpath.join(posixpath.dirname(parts.path), name), query=urlencode(query, doseq=True))
    )


def replace_query(url: str, **params) -> str:
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    return urlunsplit(parts._replace(query=urlencode({**query, **params})))


@override_settings(**CLOUDFRONT)
def test_cloudfront_url_covers_the_items_folder_valid_expired_tampered_and_another_items_prefix(viewer):
    item = ContentFactory(video_url="https://d111111abcdef8.cloudfront.net/games/7/master.m3u8")
    body = start(viewer, content_id=item.pk)
    url = body["url"]
    assert url.startswith("https://d111111abcdef8.cloudfront.net/games/7/master.m3u8?csn_session=")
    assert parse_qs(urlsplit(url).query)["csn_session"] == [body["session_id"]]
    policy = json.loads(_cloudfront_b64decode(parse_qs(urlsplit(url).query)["Policy"][0]))
    assert policy["Statement"][0]["Resource"] == "https://d111111abcdef8.cloudfront.net/games/7/*"
    assert cloudfront_valid(url)
    # the segments and variant playlists a player fetches beside it, with the same signature
    for name in ("seg00001.ts", "720p/index.m3u8", "720p/seg00001.ts"):
        assert cloudfront_valid(beside(url, name)), name
    # expired: a few minutes on (CSN_PLAYBACK_URL_TTL, 300 s), the segments too
    assert not cloudfront_valid(url, now=time.time() + 301)
    assert not cloudfront_valid(beside(url, "seg00001.ts"), now=time.time() + 301)
    # tampered: a policy for a broader prefix or a later expiry, with the signature of this one
    for resource, expires in (("https://d111111abcdef8.cloudfront.net/*", None), (None, time.time() + 3600)):
        statement = dict(policy["Statement"][0], Resource=resource or policy["Statement"][0]["Resource"])
        if expires:
            statement["Condition"] = {"DateLessThan": {"AWS:EpochTime": int(expires)}}
        forged = base64.b64encode(json.dumps({"Statement": [statement]}).encode()).decode()
        assert not cloudfront_valid(
            replace_query(url, Policy=forged.replace("+", "-").replace("=", "_").replace("/", "~"))
        )
    # another item's prefix: this signature opens nothing there, nor that item's signature here
    assert not cloudfront_valid(url.replace("/games/7/", "/games/8/"))
    assert not cloudfront_valid(beside(url, "seg00001.ts").replace("/games/7/", "/games/8/"))
    other = ContentFactory(video_url="https://d111111abcdef8.cloudfront.net/games/8/master.m3u8")
    theirs = start(UserFactory(), content_id=other.pk)["url"]
    assert cloudfront_valid(theirs) and not cloudfront_valid(beside(theirs, "seg00001.ts").replace("/8/", "/7/"))


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
    assert cloudfront_valid(beside(url, "a00001.ts"))


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


def test_csn_token_is_a_path_prefix_covering_the_manifests_folder(viewer, tmp_path, settings):
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    from content.models import MediaAsset
    from testing.factories import LiveGameFactory, MediaAssetFactory, holding, product_with

    settings.MEDIA_ROOT = tmp_path
    files = {
        "media/demo/master.m3u8": b"#EXTM3U\n720p/index.m3u8\n",
        "media/demo/720p/index.m3u8": b"#EXTM3U\nseg1.ts\n",
        "media/demo/720p/seg1.ts": b"segment",
        "media/other/seg1.ts": b"another item's",
    }
    for name, data in files.items():
        default_storage.save(name, ContentFile(data))
    item = ContentFactory(video_url="")
    kind = "application/vnd.apple.mpegurl"
    MediaAssetFactory(content=item, status=MediaAsset.Status.READY, content_type=kind, file="media/demo/master.m3u8")
    with mock.patch("django.core.signing.time.time", return_value=time.time() - 3600):  # signed an hour ago
        old = start(viewer, content_id=item.pk)
    body = start(UserFactory(), content_id=item.pk)
    path = urlsplit(body["url"]).path
    player = APIClient()

    def fetched(response) -> tuple:
        content = b"".join(response.streaming_content) if response.status_code == 200 else response.json()["code"]
        return response.status_code, response.get("Content-Type"), content

    # what a player resolves relative to the manifest's address carries the token
    assert fetched(player.get(path)) == (200, kind, files["media/demo/master.m3u8"])
    assert fetched(player.get(f"{path}720p/index.m3u8")) == (200, kind, files["media/demo/720p/index.m3u8"])
    assert fetched(player.get(f"{path}720p/seg1.ts")) == (200, "video/mp2t", b"segment")
    # nothing outside the manifest's folder, nothing missing
    for name in ("../other/seg1.ts", "720p/../../other/seg1.ts", "%2e%2e/other/seg1.ts", "seg9.ts", "./"):
        assert player.get(f"{path}{name}").status_code == 404, name
    # forged or another session's signature: refused, segments too
    session_id, stamp, signature = path.rstrip("/").rsplit("/", 1)[1].split(":")
    for forged in (f"{old['session_id']}:{stamp}:{signature}", f"{session_id}:{stamp}:{signature[:-2]}AA"):
        response = player.get(f"/api/v1/playback/manifest/{forged}/720p/seg1.ts")
        assert (response.status_code, response.json()["code"]) == (403, "bad_signature")
    # past the URL's lifetime the manifest is refused; the files beside it are the open session's
    old_path = urlsplit(old["url"]).path
    assert fetched(player.get(old_path))[::2] == (410, "expired_url")
    assert fetched(player.get(f"{old_path}720p/seg1.ts"))[0] == 200
    # once the session is over, nothing
    LiveSession.objects.filter(pk=old["session_id"]).update(ended_at=timezone.now())
    assert fetched(player.get(f"{old_path}720p/seg1.ts"))[::2] == (410, "session_ended")
    # a redirected source's neighbours are the source's: CSN serves none
    live = start(holding(UserFactory(), product_with({})), game_id=LiveGameFactory().pk)
    assert player.get(f"{urlsplit(live['url']).path}seg1.ts").status_code == 404


def s3_signature_holds(url: str, secret: str) -> bool:
    """S3's check of a SigV4 presigned GET (query auth, only `host` signed): the canonical request
    rebuilt from the URL, every query parameter but the signature included, signed with the secret."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    given = dict(query)
    assert given["X-Amz-SignedHeaders"] == "host"
    canonical_query = "&".join(
        f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, v in sorted(query) if k != "X-Amz-Signature"
    )
    canonical = "\n".join(["GET", parts.path, canonical_query, f"host:{parts.netloc}", "", "host", "UNSIGNED-PAYLOAD"])
    scope = given["X-Amz-Credential"].split("/", 1)[1]
    to_sign = "\n".join(
        ["AWS4-HMAC-SHA256", given["X-Amz-Date"], scope, hashlib.sha256(canonical.encode()).hexdigest()]
    )
    key = f"AWS4{secret}".encode()
    for part in scope.split("/"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest() == given["X-Amz-Signature"]


def test_a_presigned_s3_get_carries_the_session_in_its_signed_query(viewer):
    from content.models import MediaAsset
    from testing.factories import MediaAssetFactory

    item = ContentFactory(video_url="")
    kind = "application/vnd.apple.mpegurl"
    MediaAssetFactory(content=item, status=MediaAsset.Status.READY, content_type=kind, file="media/g.m3u8")
    storages = {**S3["STORAGES"], "default": {**S3["STORAGES"]["default"]}}
    storages["default"]["OPTIONS"] = {**storages["default"]["OPTIONS"], "signature_version": "s3v4"}
    with override_settings(STORAGES=storages):
        body = start(viewer, content_id=item.pk)
        other = start(UserFactory(), content_id=item.pk)["session_id"]
    url = body["url"]
    assert parse_qs(urlsplit(url).query)["csn_session"] == [body["session_id"]]
    assert s3_signature_holds(url, "secret")
    assert not s3_signature_holds(replace_query(url, csn_session=other), "secret")  # another session's id
    assert not s3_signature_holds(url.replace("/media/g.m3u8", "/media/g00001.ts"), "secret")  # no prefix
    assert not s3_signature_holds(url, "another secret")
