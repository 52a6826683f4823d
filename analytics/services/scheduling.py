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
    """Ask a worker to deliver soon. Never fails the caller: a broker that is down only delays
    delivery until the periodic sweep. With a broker, asks are coalesced to one per
    ANALYTICS_KICK_SECONDS (the task starts that much later, so it sees every row committed meanwhile)."""
    if settings.CELERY_TASK_ALWAYS_EAGER:
        try:
            _deliver_without_broker()
        except Exception:  # the rows stay; the next ask delivers them
            logger.exception("analytics: in-process delivery failed")
        return
    global _last_queued
    now = time.monotonic()
    kick = settings.ANALYTICS_KICK_SECONDS
    if now - _last_queued < kick:
        return  # the task this process queued starts after this commit: no Redis round trip
    try:
        # The shared key holds the wall-clock moment the queued task starts (it expires then).
        if not cache.add(_DELIVERY_KEY, time.time() + kick, timeout=kick):
            # Another process asked within the window. Its task starts at the stored moment (it queued
            # after adding the key, with the same countdown), so it covers this commit and every
            # commit until then: stay quiet until that moment instead of asking Redis again on every
            # request.
            _last_queued = now - kick + _seconds_until(cache.get(_DELIVERY_KEY))
            return
    except Exception as exc:  # a cache on a Redis that is down: ask anyway
        logger.warning("analytics: cache unavailable while requesting delivery: %s", exc)
    if _queue_task(countdown=kick):
        _last_queued = now


# When this process last queued a delayed delivery (time.monotonic()).
_last_queued = float("-inf")
_DELIVERY_KEY = "analytics:delivery-requested"


def _seconds_until(deadline) -> float:
    """Seconds from now to a stored task start (0 when gone or unreadable), at most one window."""
    if not isinstance(deadline, int | float):
        return 0.0
    return min(max(deadline - time.time(), 0.0), settings.ANALYTICS_KICK_SECONDS)


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
