"""When delivery runs: a task queued after each commit (coalesced across processes), or, without a
broker, an in-process drain."""

import logging
import threading
import time

from django.conf import settings
from django.core.cache import cache
from django.db import connection

from analytics.services import delivery

logger = logging.getLogger(__name__)

DELIVERY_TASK = "analytics.deliver_outbox"


def request_delivery() -> None:
    """Ask a worker to deliver. Never fails the caller: a broker that is down only delays delivery until
    the periodic sweep. With a broker, the first ask after a quiet spell queues a task that starts at
    once (a lone event reaches PostHog in milliseconds, not after a countdown), and opens a window of
    ANALYTICS_KICK_SECONDS shared by every process; the asks within it are coalesced into one task
    that starts when the window ends, so it sees every row committed meanwhile and sends them as
    batches. After the window, the next ask starts over."""
    if settings.CELERY_TASK_ALWAYS_EAGER:
        try:
            _deliver_without_broker()
        except Exception:  # the rows stay; the next ask delivers them
            logger.exception("analytics: in-process delivery failed")
        return
    global _quiet_until
    now = time.time()
    if now < _quiet_until:
        return  # a task starts after this commit (the window's last): no Redis round trip
    window = settings.ANALYTICS_KICK_SECONDS
    try:
        if cache.add(_WINDOW_KEY, now + window, timeout=window):
            _queue_task(countdown=0)  # the first after a quiet spell: at once
            return
        # Within a window: one task at its end covers every commit until then. The key of that task
        # names the window, so a late key never stands for the next window's task.
        window_end = _window_end(cache.get(_WINDOW_KEY), now)
        if cache.add(f"{_WINDOW_KEY}:{window_end}", True, timeout=window + 1) and not _queue_task(
            countdown=window_end - now
        ):
            return
        _quiet_until = window_end
    except Exception as exc:  # a cache on a Redis that is down: ask anyway, at once
        logger.warning("analytics: cache unavailable while requesting delivery: %s", exc)
        _queue_task(countdown=0)


# Until when (time.time()) this process knows a queued task starts after any commit it makes now.
_quiet_until = float("-inf")
_WINDOW_KEY = "analytics:delivery-window"


def _window_end(stored, now: float) -> float:
    """The open window's end as stored (now when it just closed or is unreadable), at most one window away."""
    if not isinstance(stored, int | float):
        return now
    return min(max(stored, now), now + settings.ANALYTICS_KICK_SECONDS)


def request_delivery_now() -> None:
    """A delivery run that ran out of time with rows still due hands over to a fresh task."""
    _queue_task(countdown=0)


def _queue_task(*, countdown: float) -> bool:
    from csn.celery import app as celery_app

    try:
        # With the broker down, fail at once instead of holding the request: no publish retry, and a
        # connection of its own that does not retry connecting (the pooled one retries for seconds).
        # Asks are coalesced, so a connection per ask is cheap. By name: the task module imports us.
        with celery_app.connection_for_write(transport_options={"max_retries": 0}) as conn:
            celery_app.signature(DELIVERY_TASK).apply_async(countdown=countdown, retry=False, connection=conn)
        return True
    except Exception as exc:
        logger.warning("analytics: could not queue delivery, the periodic sweep will deliver: %s", exc)
        return False


_in_process_requested = threading.Event()
_in_process_running = threading.Lock()


def _deliver_without_broker() -> None:
    """No broker (embedded default): the log sink runs in-process; a real PostHog is sent to from a
    thread, so a request never waits on PostHog even in development."""
    _in_process_requested.set()
    if not settings.POSTHOG_API_KEY:
        _drain_in_process()
        return

    def run():
        try:
            _drain_in_process()
        finally:
            connection.close()

    threading.Thread(target=run, name="analytics-delivery", daemon=True).start()


def _drain_in_process() -> None:
    """One drain at a time per process: a request that finds one running leaves its rows to it (the
    running drain loops while deliveries were asked for), so concurrent requests do not all queue on
    SQLite's single writer."""
    while True:
        if not _in_process_running.acquire(blocking=False):
            return
        try:
            while _in_process_requested.is_set():
                _in_process_requested.clear()
                delivery.outbox_deliver()
        finally:
            _in_process_running.release()
        if not _in_process_requested.is_set():
            return
