"""Celery entry points of the analytics gateway. Thin: the rules live in analytics.services."""

from celery import shared_task
from django.conf import settings

from analytics.services import delivery, scheduling, upkeep


@shared_task(
    name=scheduling.DELIVERY_TASK,
    soft_time_limit=settings.ANALYTICS_TASK_SOFT_TIME_LIMIT,
    time_limit=settings.ANALYTICS_TASK_TIME_LIMIT,
    ignore_result=True,
)
def deliver_outbox() -> dict:
    """Queued after commit by every outbox write, and run by beat as the periodic sweep.
    When its time budget runs out with rows still due, it queues itself again."""
    result = delivery.outbox_deliver()
    if result.more:
        scheduling.request_delivery_now()
    return {"sent": result.sent, "failed": result.failed, "dead": result.dead}


@shared_task(name="analytics.outbox_measure", ignore_result=True)
def outbox_measure() -> dict:
    return upkeep.outbox_measure()


@shared_task(name="analytics.outbox_dead_prune", ignore_result=True)
def outbox_dead_prune() -> int:
    return upkeep.outbox_dead_prune()
