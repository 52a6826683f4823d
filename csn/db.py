"""A read replica for read-only selectors, with read-your-writes; the database mode behind PgBouncer.

With `DATABASE_REPLICA_URL` set, the alias `replica` exists and selectors that only read (the catalogue's
lists and details) ask `read_alias()` which database to read. It answers `replica` unless the work in
progress must see its own writes:

- this request (or websocket message, or task) has written already (`ReplicaRouter.db_for_write` ran), or
  runs inside a transaction on the primary;
- the same client wrote within `DATABASE_REPLICA_STICKY_SECONDS` (replication lag): `ReadYourWritesMiddleware`
  remembers, in the cache, a digest of the client's credential (its `Authorization` header or session
  cookie) after a request that wrote, and pins that client's next requests to the primary meanwhile.

Every other read goes to `default` as before (services read what they then write, in their transaction).
The replica is never migrated (`allow_migrate`); objects from either alias relate freely (one dataset).
"""

import contextlib
import contextvars
import hashlib

from django.conf import settings
from django.core.cache import cache
from django.db import connections

REPLICA = "replica"
_wrote: contextvars.ContextVar[bool] = contextvars.ContextVar("csn_db_wrote", default=False)
_pinned: contextvars.ContextVar[bool] = contextvars.ContextVar("csn_db_pinned", default=False)


def work_started() -> tuple:
    """A new unit of work (a request, a task) has written nothing and is pinned to nothing yet."""
    return _wrote.set(False), _pinned.set(False)


def work_ended(tokens: tuple) -> None:
    _wrote.reset(tokens[0])
    _pinned.reset(tokens[1])


def replica_configured() -> bool:
    return REPLICA in settings.DATABASES


def read_alias() -> str:
    """The database a read-only selector reads: the replica when there is one and nothing above holds."""
    if not replica_configured() or _wrote.get() or _pinned.get():
        return "default"
    if connections["default"].in_atomic_block:
        return "default"
    return REPLICA


class ReplicaRouter:
    """Writes go to the primary (and mark the work as having written); reads follow an instance's own
    database, else the primary: only `read_alias()` callers read the replica."""

    def db_for_read(self, model, **hints):
        instance = hints.get("instance")
        return instance._state.db if instance is not None and instance._state.db else None

    def db_for_write(self, model, **hints):
        _wrote.set(True)
        return "default"

    def allow_relation(self, obj1, obj2, **hints):
        return {obj1._state.db, obj2._state.db} <= {"default", REPLICA}

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == "default"


def _client_key(request) -> str | None:
    credential = request.META.get("HTTP_AUTHORIZATION") or request.COOKIES.get(settings.SESSION_COOKIE_NAME)
    if not credential:
        return None
    return "csn:db:wrote:" + hashlib.sha256(credential.encode()).hexdigest()[:32]


class ReadYourWritesMiddleware:
    """Pins a client's requests to the primary for a while after one of them wrote (replication lag)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not replica_configured():
            return self.get_response(request)
        key = _client_key(request)
        pinned = bool(key) and _cache_get(key)
        wrote_token, pinned_token = _wrote.set(False), _pinned.set(bool(pinned))
        try:
            response = self.get_response(request)
            if key and _wrote.get():
                _cache_set(key, settings.DATABASE_REPLICA_STICKY_SECONDS)
        finally:
            _wrote.reset(wrote_token)
            _pinned.reset(pinned_token)
        return response


def _cache_get(key: str) -> bool:
    try:
        return bool(cache.get(key))
    except Exception:  # the cache is down: read the primary, to be safe
        return True


def _cache_set(key: str, seconds: int) -> None:
    with contextlib.suppress(Exception):  # the cache is down: _cache_get pins every read meanwhile
        cache.set(key, 1, timeout=seconds)
