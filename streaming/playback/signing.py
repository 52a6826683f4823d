"""Short-lived playback addresses, one per playback session, that cover the whole stream: an HLS player
fetches variant playlists and segments by addresses relative to the manifest's. Three ways, chosen by
configuration:

- CloudFront (CSN_CLOUDFRONT_DOMAIN, _KEY_PAIR_ID, _PRIVATE_KEY set): `https://<domain>/<key>?csn_session=<id>`
  signed with botocore's CloudFrontSigner under a custom policy whose resource is the manifest's folder
  (`https://<domain>/<folder>/*`) until CSN_PLAYBACK_URL_TTL from now: the same Policy, Signature and
  Key-Pair-Id authorize every address under that folder (a player appends them), no other folder, no
  later; CloudFront checks them with the public key;
- S3 (media on S3, no CloudFront): a presigned GET of the manifest's key (S3 cannot presign a prefix),
  valid CSN_PLAYBACK_URL_TTL seconds, `csn_session=<id>` in its signed query;
- CSN itself (the embedded default, and sources neither can sign such as a third party's URL):
  `/api/v1/playback/manifest/<token>/`, the token the session id signed with SECRET_KEY and a timestamp.
  It is a path prefix: `<token>/<name>` is the file `name` beside the manifest (a segment, a variant
  playlist), so a player's relative addresses carry the token. CSN checks it and that the session is
  still open, then serves the file or redirects to the source.

A source is a storage key (`media/2026/12/game.m3u8`, a live path) or an absolute URL.
"""

import contextvars
import functools
import posixpath
from datetime import datetime, timedelta
from urllib.parse import urlencode, urlsplit, urlunsplit

from botocore.signers import CloudFrontSigner
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from django.conf import settings
from django.core import signing
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils import timezone

_SALT = "csn.playback.manifest"


def is_absolute(source: str) -> bool:
    return bool(urlsplit(source).scheme)


def cloudfront_configured() -> bool:
    return bool(
        settings.CSN_CLOUDFRONT_DOMAIN and settings.CSN_CLOUDFRONT_KEY_PAIR_ID and settings.CSN_CLOUDFRONT_PRIVATE_KEY
    )


@functools.cache
def _private_key(pem: str):
    return serialization.load_pem_private_key(pem.encode(), password=None)


def _cloudfront_signer() -> CloudFrontSigner:
    key = _private_key(settings.CSN_CLOUDFRONT_PRIVATE_KEY)
    return CloudFrontSigner(
        settings.CSN_CLOUDFRONT_KEY_PAIR_ID,
        lambda message: key.sign(message, padding.PKCS1v15(), hashes.SHA1()),  # noqa: S303 - CloudFront's algorithm
    )


def _s3_storage():
    try:
        from storages.backends.s3 import S3Storage
    except ImportError:  # pragma: no cover - django-storages is a runtime requirement
        return None
    return default_storage if isinstance(default_storage, S3Storage) else None


def prefix_resource(url: str) -> str:
    """The custom policy's resource for a manifest at `url`: every address in its folder and below."""
    parts = urlsplit(url)
    folder = parts.path.rsplit("/", 1)[0]
    return urlunsplit((parts.scheme, parts.netloc, f"{folder}/*", "", ""))


def cloudfront_url(url: str, expires_at: datetime) -> str:
    """`url` signed for CloudFront under a custom policy covering its folder until `expires_at`."""
    signer = _cloudfront_signer()
    policy = signer.build_policy(prefix_resource(url), expires_at)
    return signer.generate_presigned_url(url, policy=policy)


# The session a presigned S3 GET is being made for (read by the hook that adds it to the signed query).
_S3_SESSION: contextvars.ContextVar[str | None] = contextvars.ContextVar("csn_s3_session", default=None)


def _add_session_to_query(request, **kwargs) -> None:
    """botocore's `before-sign` hook: the session id joins the query before it is signed (SigV4 signs
    the whole query), so another session's id in the address breaks the signature."""
    session_id = _S3_SESSION.get()
    if session_id is not None:
        separator = "&" if urlsplit(request.url).query else "?"
        request.url = f"{request.url}{separator}{urlencode({'csn_session': session_id})}"


def s3_url(s3, key: str, *, session_id) -> str:
    client = s3.connection.meta.client
    client.meta.events.register("before-sign.s3.GetObject", _add_session_to_query, unique_id="csn-session-query")
    marker = _S3_SESSION.set(str(session_id))
    try:
        return s3.url(key, expire=settings.CSN_PLAYBACK_URL_TTL)
    finally:
        _S3_SESSION.reset(marker)


def playback_url(*, source: str, session_id) -> tuple[str, datetime]:
    """The address a player fetches for this session's source, and until when it works. A path (no
    scheme) is served by CSN: the caller makes it absolute for the request's host."""
    expires_at = timezone.now() + timedelta(seconds=settings.CSN_PLAYBACK_URL_TTL)
    domain = settings.CSN_CLOUDFRONT_DOMAIN
    if cloudfront_configured() and (not is_absolute(source) or urlsplit(source).hostname == domain):
        base = source if is_absolute(source) else f"https://{domain}/{source.lstrip('/')}"
        separator = "&" if urlsplit(base).query else "?"
        url = f"{base}{separator}{urlencode({'csn_session': str(session_id)})}"
        return cloudfront_url(url, expires_at), expires_at
    s3 = _s3_storage()
    if s3 is not None and not is_absolute(source):
        return s3_url(s3, source, session_id=session_id), expires_at
    token = signing.TimestampSigner(salt=_SALT).sign(str(session_id))
    return reverse("playback-manifest", kwargs={"token": token}), expires_at


def manifest_token_session(token: str, *, any_age: bool = False) -> str | None:
    """The session id a CSN-served playback token names, if the signature holds and it is younger than
    CSN_PLAYBACK_URL_TTL (`any_age`: however old); `signing.SignatureExpired` when only its age fails;
    None when forged."""
    max_age = None if any_age else settings.CSN_PLAYBACK_URL_TTL
    try:
        return signing.TimestampSigner(salt=_SALT).unsign(token, max_age=max_age)
    except signing.SignatureExpired:
        raise
    except signing.BadSignature:
        return None


def beside(source: str, name: str) -> str | None:
    """The storage key of `name` (a relative address: `seg1.ts`, `720p/index.m3u8`) in the folder of the
    manifest `source`; None when it would leave that folder (`..`, absolute, backslashes) or is empty."""
    if not name or name.startswith("/") or "\\" in name or "\x00" in name:
        return None
    normal = posixpath.normpath(name)
    if normal.startswith("../") or normal in (".", ".."):
        return None
    folder = posixpath.dirname(source)
    return posixpath.join(folder, normal) if folder else normal
