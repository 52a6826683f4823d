"""`Idempotency-Key` on non-idempotent POSTs (the IETF httpapi draft's header): a retried request with the
same key gets the first answer again instead of doing the work twice.

- Keys are per user (the signed-in user's; an anonymous request's key is ignored: every opted-in
  operation needs a sign-in) and live `API_IDEMPOTENCY_TTL_SECONDS` (24 h); older ones are deleted by
  the hourly `api.idempotency_keys_prune` and never replayed.
- The same key with another method, path or body is a 409 `idempotency_key_reused`; a key that is not
  1-255 visible ASCII characters a 400 `invalid_idempotency_key`.
- Stored in the database, in the request's own transaction: the key's row is inserted first, the view
  runs, its answer is written to the row, one commit. So an answer is recorded exactly when its work is
  (a cache, written after the commit, could lose the answer of a done write and let a retry do it
  again; and Redis is where throttles fail open). A second request with the key while the first runs
  waits on the row's unique index (PostgreSQL) and then replays the first answer. An error answer rolls
  the row back with the work: the key can be retried.
- A replay carries `Idempotent-Replayed: true`.
"""

import datetime as dt
import functools
import hashlib
import json
import re

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response

from csn.api.models import IdempotencyKey
from csn.errors import ApplicationError, ConflictError

HEADER = "Idempotency-Key"
KEY_PATTERN = re.compile(r"^[\x21-\x7e]{1,255}$")


def request_fingerprint(*, method: str, path: str, data) -> str:
    body = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{method} {path}\n{body}".encode()).hexdigest()


def idempotent_call(*, user_id: int, key: str, fingerprint: str, call) -> Response:
    """`call()`'s answer, or the stored first answer for this user's `key`."""
    if not KEY_PATTERN.fullmatch(key):
        raise ApplicationError(
            f"{HEADER} is 1 to 255 visible ASCII characters.", code="invalid_idempotency_key", status=400
        )
    expired = timezone.now() - dt.timedelta(seconds=settings.API_IDEMPOTENCY_TTL_SECONDS)
    with transaction.atomic():
        IdempotencyKey.objects.filter(user_id=user_id, key=key, created_at__lt=expired).delete()
        try:
            with transaction.atomic():
                record = IdempotencyKey.objects.create(user_id=user_id, key=key, fingerprint=fingerprint)
        except IntegrityError:
            stored = IdempotencyKey.objects.get(user_id=user_id, key=key)
            if stored.fingerprint != fingerprint:
                raise ConflictError(
                    f"This {HEADER} was used for another request.", code="idempotency_key_reused"
                ) from None
            return Response(stored.body, status=stored.status_code, headers={"Idempotent-Replayed": "true"})
        response = call()
        if 200 <= response.status_code < 300:
            record.status_code, record.body = response.status_code, response.data
            record.save(update_fields=["status_code", "body"])
        else:
            transaction.set_rollback(True)
        return response


IDEMPOTENCY_PARAMETER = OpenApiParameter(
    HEADER,
    str,
    OpenApiParameter.HEADER,
    description="Any unique string (a UUID) chosen by the client for this request: a retry with the same "
    "key and body answers the first answer again (`Idempotent-Replayed: true`) instead of doing the work "
    "twice; the same key with another body is a 409 `idempotency_key_reused`. Kept 24 hours, per user.",
    pattern=KEY_PATTERN.pattern,
)


def idempotent(method):
    """A DRF view method that honours `Idempotency-Key` (the schema lists the header on the operation)."""

    @functools.wraps(method)
    def view_method(view, request, *args, **kwargs):
        key = request.headers.get(HEADER)
        if key is None or not request.user.is_authenticated:
            return method(view, request, *args, **kwargs)
        fingerprint = request_fingerprint(method=request.method, path=request.path, data=request.data)
        return idempotent_call(
            user_id=request.user.pk,
            key=key,
            fingerprint=fingerprint,
            call=lambda: method(view, request, *args, **kwargs),
        )

    return extend_schema(parameters=[IDEMPOTENCY_PARAMETER])(view_method)


def idempotency_keys_prune() -> int:
    expired = timezone.now() - dt.timedelta(seconds=settings.API_IDEMPOTENCY_TTL_SECONDS)
    deleted, _ = IdempotencyKey.objects.filter(created_at__lt=expired).delete()
    return deleted
