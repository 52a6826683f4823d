"""Graceful drain of one web process (SIGTERM, see csn/serve.py): its sockets move to the others.

The server stops listening (the proxy's new connections go to the other processes) and `/readyz` answers
503 (the orchestrator stops routing here); then each open socket is told to reconnect, with a random
delay so the reconnects do not arrive at once, and closed (4012, service restart), the sockets spread
evenly over `LIVE_DRAIN_SECONDS`. Clients resume each topic with `since` elsewhere and miss nothing
(docs/protocol.md). The process ends when its last socket is gone, or at the end of the window.

The gateway registers each socket here (`register`/`unregister`); a socket is anything with
`async def drain_reconnect(delay_ms: int)` and a `queue` (frames waiting behind a slow send).
"""

import asyncio
import logging
import random
import weakref

from django.conf import settings

from csn import metrics

logger = logging.getLogger(__name__)

sockets: "weakref.WeakSet" = weakref.WeakSet()
draining = False


def register(socket) -> None:
    sockets.add(socket)
    metrics.live_sockets.inc()


def unregister(socket) -> None:
    if socket in sockets:
        sockets.discard(socket)
        metrics.live_sockets.dec()


def queued_frames() -> int:
    return sum(len(getattr(socket, "queue", ())) for socket in list(sockets))


def reconnect_delay_ms() -> int:
    """How long a told socket's client waits before reconnecting: jittered, so reconnects spread out."""
    return random.randint(0, settings.LIVE_RECONNECT_JITTER_MS)


async def drain(window: float | None = None) -> None:
    """Tell every socket to reconnect and close it, spread over `window` seconds; return when none is
    left (or the window and a grace second have passed)."""
    global draining
    draining = True
    window = settings.LIVE_DRAIN_SECONDS if window is None else window
    targets = list(sockets)
    random.shuffle(targets)
    logger.warning("live: draining %d sockets over %.1f s", len(targets), window)

    async def tell(socket, at: float) -> None:
        await asyncio.sleep(at)
        try:
            await socket.drain_reconnect(reconnect_delay_ms())
            metrics.live_drain_reconnects.inc()
        except Exception:
            logger.info("live: a socket could not be told to reconnect", exc_info=True)

    step = window / len(targets) if targets else 0
    tasks = [asyncio.ensure_future(tell(socket, index * step)) for index, socket in enumerate(targets)]
    if tasks:
        await asyncio.wait(tasks, timeout=window + 1)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 1
    while len(sockets) and loop.time() < deadline:  # sockets that connected meanwhile were told at once
        await asyncio.sleep(0.05)
    logger.warning("live: drained; %d sockets left", len(sockets))
