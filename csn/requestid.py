"""Request ids: one per HTTP request, websocket message and Celery task, in every log line they cause.

- `RequestIdMiddleware` (first in MIDDLEWARE) takes a sane incoming `X-Request-ID` (from the proxy, which
  makes one per request) or makes one, and answers it on every response.
- `current()` is the id of the work running now (a contextvar: each HTTP worker thread, each websocket
  message task, each Celery task has its own); `RequestIdFilter` puts it on every log record.
- Celery: a task queued while handling a request carries the id in its headers (`csn.celery`), and runs
  under it.
- Live events: `csn.realtime.hub.fan_out` sends the id of the work that published the event along with
  it, so a fan-out logged on another process names the request that caused it.
"""

import contextlib
import contextvars
import logging
import re
import uuid

HEADER = "X-Request-ID"
META_KEY = "HTTP_X_REQUEST_ID"
# What we accept from outside: a proxy's or client's id, printable, short. Anything else is replaced.
_SANE = re.compile(r"[A-Za-z0-9._:@/+=-]{1,128}")

_current: contextvars.ContextVar[str | None] = contextvars.ContextVar("csn_request_id", default=None)


def new() -> str:
    return uuid.uuid4().hex


def sane(value) -> str | None:
    """`value` when it may be used as a request id (logged, echoed in a header), else None."""
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    return value if isinstance(value, str) and _SANE.fullmatch(value) else None


def current() -> str | None:
    return _current.get()


def bind(request_id: str | None) -> contextvars.Token:
    """Make `request_id` the current one until `unbind(token)` (for work with no block: a Celery task)."""
    return _current.set(request_id or new())


def unbind(token: contextvars.Token) -> None:
    _current.reset(token)


@contextlib.contextmanager
def bound(request_id: str | None):
    """Run the block under `request_id` (a new one when None)."""
    token = _current.set(request_id or new())
    try:
        yield _current.get()
    finally:
        _current.reset(token)


class RequestIdMiddleware:
    """Every response has an `X-Request-ID`: the incoming one when sane, else a new one."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with bound(sane(request.META.get(META_KEY))) as request_id:
            request.request_id = request_id
            response = self.get_response(request)
        response[HEADER] = request_id
        return response


class RequestIdFilter(logging.Filter):
    """Adds `request_id` (or "-") to every record, for the plain and the JSON format alike."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            # django.request logs a 4xx/5xx after the middleware returned: its record names the request.
            request_id = _current.get() or getattr(getattr(record, "request", None), "request_id", None)
            record.request_id = request_id or "-"
        return True


HEADER_SCHEMA = {
    "description": "The request's id: the X-Request-ID sent when sane, else a new one. Every log line of "
    "the request, and of the tasks it queued, carries it.",
    "schema": {"type": "string", "pattern": "^[A-Za-z0-9._:@/+=-]{1,128}$"},
}


def schema_header(result, generator, request, public):
    """drf-spectacular postprocessing hook: every response of every operation has `X-Request-ID`."""
    for path_item in result.get("paths", {}).values():
        for operation in path_item.values():
            if isinstance(operation, dict):
                for response in operation.get("responses", {}).values():
                    if isinstance(response, dict) and "$ref" not in response:
                        response.setdefault("headers", {})[HEADER] = HEADER_SCHEMA
    return result
