"""The intake's single INSERT (hand-written on PostgreSQL, bulk_create elsewhere) writes the same row
the ORM writes, whatever the database."""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from analytics.models import OutboxEvent

URL = "/api/v1/analytics/events/"
FIELDS = ["name", "distinct_id", "properties", "context", "timestamp", "status", "attempts", "last_error"]


@pytest.mark.django_db
def test_intake_row_matches_a_row_written_by_the_orm(auth_client, user):
    OutboxEvent.objects.all().delete()
    when = timezone.now() - timedelta(minutes=5)
    event_uuid = uuid.uuid4()
    properties = {"path": "/watch/1?ü", "referrer": 'quote " and \\ backslash', "title": "Ünïcode ✓"}
    before = timezone.now()

    response = auth_client.post(
        URL,
        {
            "events": [
                {"name": "page_view", "properties": properties, "timestamp": when.isoformat(), "uuid": str(event_uuid)}
            ]
        },
        format="json",
        HTTP_X_APP_VERSION="3.2.0",
        HTTP_X_DEVICE="Pixel 8",
    )
    assert response.status_code == 202, response.json()
    intake = OutboxEvent.objects.get()
    orm = OutboxEvent.objects.create(
        name="page_view",
        distinct_id=str(user.pk),
        properties=properties,
        context={"app_version": "3.2.0", "device": "Pixel 8"},
        timestamp=when,
        next_attempt_at=timezone.now(),
    )
    orm.refresh_from_db()

    assert intake.uuid == event_uuid
    assert {f: getattr(intake, f) for f in FIELDS} == {f: getattr(orm, f) for f in FIELDS}
    assert before <= intake.created_at <= timezone.now()
    assert before <= intake.next_attempt_at <= intake.created_at


@pytest.mark.django_db
def test_events_without_uuid_get_distinct_ones_and_a_uuid_repeated_in_a_batch_counts_once(auth_client):
    OutboxEvent.objects.all().delete()
    repeated = str(uuid.uuid4())
    events = [
        {"name": "video_pause", "properties": {"video_id": 1, "position_seconds": 1.0}},
        {"name": "video_pause", "properties": {"video_id": 2, "position_seconds": 2.0}},
        {"name": "video_pause", "properties": {"video_id": 3, "position_seconds": 3.0}, "uuid": repeated},
        {"name": "video_pause", "properties": {"video_id": 3, "position_seconds": 3.0}, "uuid": repeated},
    ]

    response = auth_client.post(URL, {"events": events}, format="json")

    assert response.status_code == 202
    rows = list(OutboxEvent.objects.order_by("id"))
    assert [r.properties["video_id"] for r in rows] == [1, 2, 3]
    assert len({r.uuid for r in rows}) == 3
    assert rows[2].uuid == uuid.UUID(repeated)
