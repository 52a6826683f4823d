"""Periodic live jobs. Thin: they call services."""

from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from streaming import live_services
from streaming.models import LiveEvent


@shared_task
def presence_close_stale() -> int:
    return live_services.presence_close_stale()


@shared_task
def live_events_prune() -> int:
    """Resume needs only recent events; older clients get a fresh snapshot."""
    cutoff = timezone.now() - timedelta(hours=settings.LIVE_EVENT_RETENTION_HOURS)
    return LiveEvent.objects.filter(created_at__lt=cutoff).delete()[0]
