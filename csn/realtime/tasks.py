"""Periodic upkeep of the event log. Thin."""

from celery import shared_task

from csn.realtime import log


@shared_task(name="realtime.live_events_prune")
def live_events_prune() -> int:
    return log.events_prune()
