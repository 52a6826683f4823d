"""Many devices writing at once: real threads, real connections, committed transactions."""

from datetime import UTC, datetime, timedelta

import pytest
from rest_framework.test import APIClient

from analytics.models import OutboxEvent
from streaming.viewing.models import MyListItem, WatchProgress
from testing.concurrency import run_together
from testing.factories import ContentFactory

pytestmark = pytest.mark.django_db(transaction=True)

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def _client(user):
    client = APIClient()
    client.force_authenticate(user=user)
    return client


def test_twenty_devices_upserting_one_row_keep_one_row_with_the_newest_reading(user, outbox_held):
    content = ContentFactory()
    # Readings i = 0..19 taken at T0 + i seconds, all sent at once in no particular order.
    readings = {i: (10.0 * (i + 1), T0 + timedelta(seconds=i)) for i in range(20)}

    def write(i):
        position, at = readings[i]
        body = {"position_seconds": position, "duration_seconds": 1000.0, "recorded_at": at.isoformat()}
        return _client(user).put(f"/api/v1/progress/{content.pk}/", body, format="json").status_code

    statuses = run_together(20, write)

    assert statuses == [200] * 20
    [row] = WatchProgress.objects.filter(user=user, content=content)
    assert row.position_seconds == 200.0
    assert row.recorded_at == T0 + timedelta(seconds=19)
    assert OutboxEvent.objects.filter(name="video_play").count() == 1


def test_twenty_devices_crossing_the_threshold_at_once_complete_once(user, outbox_held):
    content = ContentFactory()

    def write(i):
        at = T0 + timedelta(seconds=i)
        body = {"position_seconds": 950.0 + i, "duration_seconds": 1000.0, "recorded_at": at.isoformat()}
        return _client(user).put(f"/api/v1/progress/{content.pk}/", body, format="json").status_code

    assert run_together(20, write) == [200] * 20
    assert OutboxEvent.objects.filter(name="video_complete").count() == 1
    assert OutboxEvent.objects.filter(name="video_play").count() == 1


def test_double_tap_on_my_list_adds_once(user, outbox_held):
    content = ContentFactory()

    def add(_):
        return _client(user).post("/api/v1/my-list/", {"content_id": content.pk}, format="json").status_code

    statuses = run_together(5, add)

    assert sorted(statuses) == [200, 200, 200, 200, 201]
    assert MyListItem.objects.filter(user=user, content=content).count() == 1
    assert OutboxEvent.objects.filter(name="my_list_added").count() == 1
