import json
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.services import token_issue
from analytics.models import OutboxEvent

URL = "/api/v1/analytics/events/"


@pytest.fixture(autouse=True)
def _empty_outbox(user):
    """Creating the user queued its signed_up event; these tests look at app events only."""
    OutboxEvent.objects.all().delete()


def pause(video_id=7, **extra):
    return {"name": "video_pause", "properties": {"video_id": video_id, "position_seconds": 12.5}, **extra}


@pytest.mark.django_db
def test_valid_batch_is_queued_for_the_authenticated_user(auth_client, user):
    response = auth_client.post(
        URL,
        {"events": [pause(), {"name": "page_view", "properties": {"path": "/home"}}]},
        format="json",
        HTTP_USER_AGENT="CSN-iOS/3.2 (iPhone15,2)",
        HTTP_X_APP_VERSION="3.2.0",
        HTTP_X_DEVICE="iPhone15,2",
    )

    assert response.status_code == 202, response.json()
    assert response.json() == {"accepted": 2, "rejected": 0, "error": None}
    rows = list(OutboxEvent.objects.order_by("id"))
    assert [r.name for r in rows] == ["video_pause", "page_view"]
    assert {r.distinct_id for r in rows} == {str(user.pk)}
    assert rows[0].properties == {"video_id": 7, "position_seconds": 12.5}
    assert rows[0].context == {"user_agent": "CSN-iOS/3.2 (iPhone15,2)", "app_version": "3.2.0", "device": "iPhone15,2"}
    assert rows[0].status == OutboxEvent.Status.PENDING


@pytest.mark.django_db
def test_client_timestamp_is_kept(auth_client):
    when = timezone.now() - timedelta(hours=3)
    response = auth_client.post(URL, {"events": [pause(timestamp=when.isoformat())]}, format="json")
    assert response.status_code == 202
    assert OutboxEvent.objects.get().timestamp == when


@pytest.mark.django_db
def test_distinct_id_never_comes_from_the_body(auth_client, user):
    response = auth_client.post(URL, {"events": [pause(distinct_id="someone-else"), pause()]}, format="json")

    assert response.status_code == 202
    body = response.json()
    assert body["accepted"] == 1 and body["rejected"] == 1
    assert body["error"]["fields"]["events.0.distinct_id"][0]["code"] == "unknown_field"
    assert list(OutboxEvent.objects.values_list("distinct_id", flat=True)) == [str(user.pk)]


@pytest.mark.parametrize(
    ("event", "field", "code"),
    [
        ({"name": "video_rewind", "properties": {}}, "name", "unknown_event"),
        ({"name": "signed_up", "properties": {"method": "email"}}, "name", "server_only_event"),
        ({"name": "video_play", "properties": {"video_id": 1}}, "name", "server_only_event"),
        ({"name": "video_pause", "properties": {"video_id": 7}}, "properties.position_seconds", "missing_property"),
        (
            {"name": "video_pause", "properties": {"video_id": "7", "position_seconds": 1}},
            "properties.video_id",
            "wrong_type",
        ),
        (
            {"name": "video_pause", "properties": {"video_id": True, "position_seconds": 1}},
            "properties.video_id",
            "wrong_type",
        ),
        (
            {"name": "page_view", "properties": {"path": "/", "email": "a@b.c"}},
            "properties.email",
            "unknown_property",
        ),
        ({"name": "page_view", "properties": ["/"]}, "properties", "invalid"),
        ({"name": "page_view", "properties": {"path": "/a\u0000b"}}, "properties.path", "invalid_characters"),
        (
            {"name": "page_view", "properties": {"path": "/"}, "timestamp": "yesterday"},
            "timestamp",
            "invalid_timestamp",
        ),
        ({"name": "page_view", "properties": {"path": "/"}, "uuid": "nope"}, "uuid", "invalid"),
        ("page_view", "non_field_errors", "invalid"),
    ],
)
@pytest.mark.django_db
def test_each_bad_event_gets_its_own_error_and_the_good_ones_are_accepted(auth_client, event, field, code):
    response = auth_client.post(URL, {"events": [pause(), event, pause(video_id=8)]}, format="json")

    assert response.status_code == 202
    body = response.json()
    assert body["accepted"] == 2 and body["rejected"] == 1
    assert body["error"]["code"] == "some_events_invalid"
    assert body["error"]["fields"][f"events.1.{field}"][0]["code"] == code
    assert sorted(OutboxEvent.objects.values_list("properties__video_id", flat=True)) == [7, 8]


@pytest.mark.django_db
def test_timestamps_far_in_the_future_or_too_old_are_refused(auth_client):
    now = timezone.now()
    events = [
        pause(timestamp=(now + timedelta(hours=2)).isoformat()),
        pause(timestamp=(now - timedelta(days=30)).isoformat()),
        pause(timestamp=(now + timedelta(seconds=30)).isoformat()),  # small clock skew is fine
    ]
    body = auth_client.post(URL, {"events": events}, format="json").json()

    assert body["accepted"] == 1
    assert body["error"]["fields"]["events.0.timestamp"][0]["code"] == "timestamp_in_future"
    assert body["error"]["fields"]["events.1.timestamp"][0]["code"] == "timestamp_too_old"


@pytest.mark.django_db
def test_a_batch_where_every_event_is_bad_is_a_400_and_writes_nothing(auth_client):
    response = auth_client.post(
        URL, {"events": [{"name": "nope"}, {"name": "signed_up", "properties": {"method": "x"}}]}, format="json"
    )

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert set(error["fields"]) == {"events.0.name", "events.1.name"}
    assert not OutboxEvent.objects.exists()


@pytest.mark.parametrize(
    "body",
    [{}, {"events": []}, {"events": "video_pause"}, {"events": [pause()] * 51}, [pause()]],
)
@pytest.mark.django_db
def test_malformed_batches_are_refused(auth_client, body):
    response = auth_client.post(URL, body, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert not OutboxEvent.objects.exists()


@pytest.mark.django_db
def test_fifty_events_are_accepted(auth_client):
    response = auth_client.post(URL, {"events": [pause(video_id=i) for i in range(50)]}, format="json")
    assert response.status_code == 202
    assert OutboxEvent.objects.count() == 50


@pytest.mark.django_db
def test_re_sent_event_with_the_same_uuid_counts_once(auth_client):
    event = pause(uuid=str(uuid.uuid4()))
    auth_client.post(URL, {"events": [event]}, format="json")
    response = auth_client.post(URL, {"events": [event]}, format="json")

    assert response.status_code == 202
    assert OutboxEvent.objects.get().uuid == uuid.UUID(event["uuid"])


@pytest.mark.django_db
def test_anonymous_requests_are_refused(api_client):
    response = api_client.post(URL, {"events": [pause()]}, format="json")
    assert response.status_code in (401, 403)
    assert "error" in response.json()
    assert not OutboxEvent.objects.exists()


@pytest.mark.django_db
def test_oversized_body_is_a_413_in_the_error_shape(user, settings):
    token = token_issue(user=user)
    client = APIClient()
    body = json.dumps(
        {"events": [pause(padding="x" * 1000) for _ in range(settings.DATA_UPLOAD_MAX_MEMORY_SIZE // 900)]}
    )

    response = client.generic(
        "POST", URL, body, content_type="application/json", HTTP_AUTHORIZATION=f"Token {token.key}"
    )

    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"
    assert not OutboxEvent.objects.exists()


@pytest.mark.django_db
def test_intake_is_throttled_per_user(settings, user):
    from rest_framework.settings import api_settings

    from analytics.api.views import AnalyticsRateThrottle

    AnalyticsRateThrottle.THROTTLE_RATES = {**api_settings.DEFAULT_THROTTLE_RATES, "analytics": "3/min"}
    try:
        client = APIClient()
        client.force_authenticate(user=user)
        codes = [client.post(URL, {"events": [pause()]}, format="json").status_code for _ in range(4)]

        from testing.factories import UserFactory

        other = APIClient()
        other.force_authenticate(user=UserFactory())
        other_code = other.post(URL, {"events": [pause()]}, format="json").status_code
    finally:
        AnalyticsRateThrottle.THROTTLE_RATES = api_settings.DEFAULT_THROTTLE_RATES

    assert codes == [202, 202, 202, 429]
    assert other_code == 202  # the limit is per user, not global


@pytest.mark.django_db
def test_intake_is_one_insert_whatever_the_batch_size(auth_client, django_assert_num_queries):
    # Inside the test's transaction the atomic block is a savepoint: savepoint, insert, release.
    with django_assert_num_queries(3) as captured:
        response = auth_client.post(URL, {"events": [pause(video_id=i) for i in range(20)]}, format="json")
    assert response.status_code == 202
    assert [q["sql"].split()[0] for q in captured.captured_queries].count("INSERT") == 1
