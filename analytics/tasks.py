"""Celery entry points of the analytics gateway. Thin: the rules live in analytics.services."""

from celery import shared_task
from django.conf import settings

from analytics import services


@shared_task(
    name="analytics.deliver_outbox",
    soft_time_limit=settings.ANALYTICS_TASK_SOFT_TIME_LIMIT,
    time_limit=settings.ANALYTICS_TASK_TIME_LIMIT,
    ignore_result=True,
)
def deliver_outbox() -> dict:
    """Queued after commit by `track` and the intake API, and run by beat as the periodic sweep.
    When its time budget runs out with rows still due, it queues itself again."""
    result = services.outbox_deliver()
    if result.more:
        services.request_delivery_now()
    return {"sent": result.sent, "failed": result.failed, "dead": result.dead}
