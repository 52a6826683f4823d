"""Messages to one user's open sockets, in every process, through Channels' layer.

Topic fan-out (many sockets, one frame) is the hub's. This is the other kind of message, the one
Channels' layer is made for: a few messages meant for particular connections wherever they are.
Every socket of a signed-in user joins the layer group `user_group(user_id)`; the gateway handles:

- `sockets.revoke`: close the sockets signed in with a credential that no longer holds (a revoked
  token, an ended browser session), or every socket of the user when `credential` is None;
- `sockets.notice`: pass a `notice` frame to the client (a mute, a viewing session ended elsewhere).

Senders are synchronous (services, signal receivers) and send after the caller's transaction commits,
so a rolled-back change tells nobody. A layer outage loses the message, never the write: the change is
stored, and every later request with the revoked credential is refused anyway.
"""

import hashlib
import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

from csn.realtime.topics import user_group

logger = logging.getLogger(__name__)

REVOKE = "sockets.revoke"
NOTICE = "sockets.notice"


def credential_id(kind: str, secret: str) -> str:
    """What a socket and a revocation call a credential: a digest, so no secret crosses the layer."""
    return f"{kind}:{hashlib.sha256(secret.encode()).hexdigest()[:32]}"


def _send(user_id: int, message: dict) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(user_group(user_id), message)
    except Exception:  # the change is stored; later requests with the old credential are refused anyway
        logger.warning("realtime: %s to user %s failed", message["type"], user_id, exc_info=True)


def user_sockets_close(*, user_id: int, reason: str, credential: str | None = None) -> None:
    """After commit: close the user's sockets signed in with `credential` (all of them when None)."""
    message = {"type": REVOKE, "reason": reason, "credential": credential}
    transaction.on_commit(lambda: _send(user_id, message))


def user_sockets_notify(*, user_id: int, name: str, data: dict) -> None:
    """After commit: a `notice` frame `{name, data}` to every open socket of the user."""
    message = {"type": NOTICE, "name": name, "data": data}
    transaction.on_commit(lambda: _send(user_id, message))
