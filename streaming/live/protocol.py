"""The live protocol's contract: its versions, the `hello` frame, close codes (docs/protocol.md and the
AsyncAPI document, streaming/live/asyncapi.yaml, describe them to clients)."""

from urllib.parse import parse_qs

from django.conf import settings
from django.utils import timezone

from csn.representation import datetime_text

PROTOCOL_VERSION = 1  # what a client that names no version gets
# 2: under load, a run of shed events comes as one `skipped` note with a `count` (docs/protocol.md).
SUPPORTED_VERSIONS = (1, 2)
# Clients send `ping` this often (and reconnect when no `pong` comes within one more interval).
PING_INTERVAL_SECONDS = 25
HEARTBEAT_INTERVAL_SECONDS = 20  # while watching (presence)
MAX_REF_LENGTH = 64


class Close:
    """Close codes and what a client does on each (docs/protocol.md, "Close codes"). Plain ints: daphne's
    websocket library refuses any other type (an IntEnum member drops the connection with 1006)."""

    SLOW_READER = 4008  # reconnect (full jitter) and resume with `since`
    SERVICE_RESTART = 4012  # the process is draining: reconnect after the `reconnect` frame's delay, resume
    FLOOD = 4029  # do not reconnect automatically: the client sent too much
    SIGNED_OUT = 4401  # reconnect only after signing in again
    UNSUPPORTED_VERSION = 4406  # do not reconnect with this version


def requested_version(scope) -> int | None:
    """The version a client asked for with `?v=<n>` (the default when it names none), or None when it
    asked for one this server does not speak."""
    values = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("v")
    if not values:
        return PROTOCOL_VERSION
    value = values[-1]
    if value.isascii() and value.isdigit() and len(value) < 4 and int(value) in SUPPORTED_VERSIONS:
        return int(value)
    return None


def limits() -> dict:
    return {
        "max_message_bytes": settings.LIVE_MAX_MESSAGE_BYTES,
        "max_subscriptions": settings.LIVE_MAX_SUBSCRIPTIONS,
        "max_messages_per_second": settings.LIVE_FLOOD_MESSAGES_PER_SECOND,
        "max_ref_length": MAX_REF_LENGTH,
        "replay_limit": settings.LIVE_REPLAY_LIMIT,
        "chat_messages_per_window": settings.LIVE_CHAT_RATE_COUNT,
        "chat_window_seconds": settings.LIVE_CHAT_RATE_WINDOW_SECONDS,
        "heartbeat_interval": HEARTBEAT_INTERVAL_SECONDS,
    }


def server_time() -> str:
    return datetime_text(timezone.now())


def hello(*, version: int, user) -> dict:
    """The first frame on every socket."""
    return {
        "type": "hello",
        "protocol": version,
        "versions": list(SUPPORTED_VERSIONS),
        "server_time": server_time(),
        "ping_interval": PING_INTERVAL_SECONDS,
        "user": None if user is None else {"id": user.pk, "name": user.display_name},
        "limits": limits(),
    }


def unsupported_version() -> dict:
    return {
        "type": "error",
        "status": "error",
        "code": "unsupported_version",
        "message": f"This server speaks protocol versions {', '.join(map(str, SUPPORTED_VERSIONS))} (`?v=`).",
        "ref": None,
        "supported": list(SUPPORTED_VERSIONS),
    }
