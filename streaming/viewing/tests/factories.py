"""Viewer-state rows for these tests (the shared factories are in `testing.factories`)."""

from datetime import timedelta

from django.utils import timezone

from streaming.viewing.models import WatchProgress


def watched(user, content, *, percent=30.0, minutes_ago=0):
    """A progress row as the upsert would leave it, watched `minutes_ago`."""
    at = timezone.now() - timedelta(minutes=minutes_ago)
    return WatchProgress.objects.create(
        user=user,
        content=content,
        position_seconds=percent * 10,
        duration_seconds=1000.0,
        completion_percentage=percent,
        completed=percent >= 90,
        recorded_at=at,
        completed_at=at if percent >= 90 else None,
        first_watched_at=at,
        last_watched_at=at,
    )
