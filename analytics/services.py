"""The analytics gateway's write side: every event enters through `track`."""

from django.utils import timezone

from analytics.models import OutboxEvent


def track(
    *,
    name: str,
    distinct_id: str,
    properties: dict | None = None,
    context: dict | None = None,
    timestamp=None,
) -> OutboxEvent:
    """Queue an analytics event in the caller's transaction: a rolled-back use case emits nothing."""
    now = timezone.now()
    return OutboxEvent.objects.create(
        name=name,
        distinct_id=str(distinct_id),
        properties=properties or {},
        context=context or {},
        timestamp=timestamp or now,
        next_attempt_at=now,
    )
