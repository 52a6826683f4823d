"""Periodic live jobs. Thin: they call services."""

from celery import shared_task

from streaming.live.services import presence


@shared_task(name="streaming.presence_close_stale")
def presence_close_stale() -> int:
    return presence.presence_close_stale()
