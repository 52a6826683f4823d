"""Short-lived playback addresses, one per playback session. Three ways, chosen by configuration:

- CloudFront (CSN_CLOUDFRONT_DOMAIN, _KEY_PAIR_ID, _PRIVATE_KEY set): `https://<domain>/<key>?csn_session=<id>`
  signed with botocore's CloudFrontSigner (canned policy, RSA-SHA1 over the exact URL: changing the
  session or the path breaks the signature; CloudFront checks it with the public key);
- S3 (media on S3, no CloudFront): a presigned GET of the key, valid CSN_PLAYBACK_URL_TTL seconds;
- CSN itself (the embedded default, and sources neither can sign such as a third party's URL):
  `/api/v1/playback/manifest/<token>/`, the token the session id signed with SECRET_KEY and a timestamp;
  CSN checks it and that the session is still open, then serves the file or redirects to the source.

A source is a storage key (`media/2026/12/game.m3u8`, a live path) or an absolute URL.
"""

import functools
from datetime import datetime, timedelta
from urllib.parse import urlencode, urlsplit

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


def playback_url(*, source: str, session_id) -> tuple[str, datetime]:
    """The address a player fetches for this session's source, and until when it works. A path (no
    scheme) is served by CSN: the caller makes it absolute for the request's host."""
    expires_at = timezone.now() + timedelta(seconds=settings.CSN_PLAYBACK_URL_TTL)
    domain = settings.CSN_CLOUDFRONT_DOMAIN
    if cloudfront_configured() and (not is_absolute(source) or urlsplit(source).hostname == domain):
        base = source if is_absolute(source) else f"https://{domain}/{source.lstrip('/')}"
        separator = "&" if urlsplit(base).query else "?"
        url = f"{base}{separator}{urlencode({'csn_session': str(session_id)})}"
        return _cloudfront_signer().generate_presigned_url(url, date_less_than=expires_at), expires_at
    s3 = _s3_storage()
    if s3 is not None and not is_absolute(source):
        return s3.url(source, expire=settings.CSN_PLAYBACK_URL_TTL), expires_at
    token = signing.TimestampSigner(salt=_SALT).sign(str(session_id))
    return reverse("playback-manifest", kwargs={"token": token}), expires_at


def manifest_token_session(token: str) -> str | None:
    """The session id a CSN-served playback token names, if the signature holds and it is younger than
    CSN_PLAYBACK_URL_TTL; `signing.SignatureExpired` when only its age fails; None when forged."""
    try:
        return signing.TimestampSigner(salt=_SALT).unsign(token, max_age=settings.CSN_PLAYBACK_URL_TTL)
    except signing.SignatureExpired:
        raise
    except signing.BadSignature:
        return None
