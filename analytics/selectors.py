"""Reads of the outbox: how far behind delivery is (the Studio dashboard's panel)."""

from django.db.models import Count, Min, Q
from django.utils import timezone

from analytics.models import OutboxEvent


def outbox_backlog(*, now=None) -> dict:
    """Events waiting (pending), due now (pending and past their next attempt), given up (dead), and
    the oldest waiting event's timestamp."""
    now = now or timezone.now()
    pending = Q(status=OutboxEvent.Status.PENDING)
    return OutboxEvent.objects.aggregate(
        pending=Count("id", filter=pending),
        due=Count("id", filter=pending & Q(next_attempt_at__lte=now)),
        dead=Count("id", filter=Q(status=OutboxEvent.Status.DEAD)),
        oldest=Min("created_at", filter=pending),
    )
