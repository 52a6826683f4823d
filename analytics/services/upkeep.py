"""Upkeep of the outbox: how far behind delivery is (metrics), and how long given-up rows stay."""

from datetime import timedelta

from django.conf import settings
from django.db.models import Count, Min
from django.utils import timezone

from analytics.models import OutboxEvent
from csn import metrics
from csn.retention import delete_in_batches


def outbox_measure() -> dict:
    """Rows waiting by status, and the oldest pending row's age, into the metrics (beat, every 30 s)."""
    counts = dict(OutboxEvent.objects.order_by().values_list("status").annotate(n=Count("pk")))
    oldest = OutboxEvent.objects.filter(status=OutboxEvent.Status.PENDING).aggregate(at=Min("created_at"))["at"]
    age = (timezone.now() - oldest).total_seconds() if oldest else 0.0
    for status in OutboxEvent.Status.values:
        metrics.outbox_backlog.labels(status).set(counts.get(status, 0))
    metrics.outbox_oldest_age.set(age)
    return {
        "pending": counts.get(OutboxEvent.Status.PENDING, 0),
        "dead": counts.get(OutboxEvent.Status.DEAD, 0),
        "oldest_age": age,
    }


def outbox_dead_prune() -> int:
    """Rows given up on (dead) older than RETAIN_DEAD_OUTBOX_DAYS; delivered rows are already gone."""
    cutoff = timezone.now() - timedelta(days=settings.RETAIN_DEAD_OUTBOX_DAYS)
    dead = OutboxEvent.objects.filter(status=OutboxEvent.Status.DEAD, created_at__lt=cutoff)
    return delete_in_batches(dead, what="dead_outbox")
