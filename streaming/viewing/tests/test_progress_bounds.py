"""Progress readings bounded to sane ranges (the hardening issue): a tiny duration is not a completion,
and extreme values are a 400 with a code, never a 500."""

import json

import pytest

from analytics.models import OutboxEvent
from streaming.viewing.models import WatchProgress
from testing.factories import ContentFactory

pytestmark = pytest.mark.django_db

AT = "2026-01-01T12:00:00Z"


def put_raw(client, content_id, body: str):
    return client.put(f"/api/v1/progress/{content_id}/", body, content_type="application/json")


@pytest.mark.parametrize(
    ("position", "duration", "field", "code"),
    [
        ("0", "1e-320", "duration_seconds", "invalid_duration"),
        ("0", "5e-324", "duration_seconds", "invalid_duration"),
        ("0", "0.999", "duration_seconds", "invalid_duration"),
        ("0.5", "0.5", "duration_seconds", "invalid_duration"),
        ("0", "1e308", "duration_seconds", "invalid_duration"),
        ("1e308", "1000", "position_seconds", "position_past_end"),
        ("-1e-320", "1000", "position_seconds", "invalid_position"),
        ("0", "1e400", "duration_seconds", "invalid"),  # parses as infinity: not a finite number
        ("1e400", "1000", "position_seconds", "invalid"),
        (str(10**30), "1000", "position_seconds", "position_past_end"),
    ],
)
def test_a_reading_out_of_range_is_a_400_and_emits_nothing(auth_client, position, duration, field, code):
    content = ContentFactory()
    before = OutboxEvent.objects.count()
    body = f'{{"position_seconds": {position}, "duration_seconds": {duration}, "recorded_at": "{AT}"}}'
    response = put_raw(auth_client, content.pk, body)

    assert response.status_code == 400, response.content
    assert response.json()["error"]["fields"][field][0]["code"] == code
    assert not WatchProgress.objects.exists()
    assert OutboxEvent.objects.count() == before


def test_one_second_is_the_shortest_duration(auth_client):
    content = ContentFactory()
    body = json.dumps({"position_seconds": 0, "duration_seconds": 1, "recorded_at": AT})
    response = put_raw(auth_client, content.pk, body)
    assert response.status_code == 200
    assert response.json()["completed"] is False


@pytest.mark.parametrize(
    "recorded_at",
    ["9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+23:59", "2026-02-30T10:00:00Z", "2026-01-01T10:00:00+99:00"],
)
def test_an_impossible_recorded_at_is_a_400(auth_client, recorded_at):
    content = ContentFactory()
    body = json.dumps({"position_seconds": 1, "duration_seconds": 100, "recorded_at": recorded_at})
    response = put_raw(auth_client, content.pk, body)
    assert response.status_code == 400, response.content
    assert "recorded_at" in response.json()["error"]["fields"]
