"""Periodic fans jobs. Thin: they call services."""

from celery import shared_task

from streaming.fans import services


@shared_task(name="streaming.notifications_read_prune")
def notifications_read_prune() -> int:
    return services.notifications_read_prune()
