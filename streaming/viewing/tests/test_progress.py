from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from analytics.models import OutboxEvent
from content.models import Content
from streaming.viewing.models import WatchProgress
from testing.factories import ContentFactory

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def put(client, content_id, position, duration=1000.0, at=T0):
    body = {"position_seconds": position, "duration_seconds": duration, "recorded_at": at.isoformat()}
    return client.put(f"/api/v1/progress/{content_id}/", body, format="json")


def events(name):
    return list(OutboxEvent.objects.filter(name=name).order_by("id"))


@pytest.fixture
def content():
    return ContentFactory()


def test_first_reading_stores_progress_emits_video_play_and_publishes(auth_client, user, content, published):
    response = put(auth_client, content.pk, 120.0)

    assert response.status_code == 200
    body = response.json()
    assert body["applied"] is True
    assert body["position_seconds"] == 120.0
    assert body["completion_percentage"] == 12.0
    assert body["completed"] is False
    row = WatchProgress.objects.get(user=user, content=content)
    assert (row.position_seconds, row.duration_seconds, row.recorded_at) == (120.0, 1000.0, T0)
    [play] = events("video_play")
    assert play.distinct_id == str(user.pk)
    assert play.properties["video_id"] == content.pk
    assert play.properties["position_seconds"] == 120.0
    assert events("video_complete") == []
    assert published == [(user.pk, "progress.updated", published[0][2])]
    assert published[0][2]["content_id"] == content.pk
    assert published[0][2]["position_seconds"] == 120.0


def test_newer_reading_moves_progress_without_a_second_play_event(auth_client, user, content, published):
    put(auth_client, content.pk, 100.0, at=T0)
    response = put(auth_client, content.pk, 300.0, at=T0 + timedelta(seconds=10))

    assert response.json()["applied"] is True
    assert WatchProgress.objects.get(user=user, content=content).position_seconds == 300.0
    assert WatchProgress.objects.count() == 1
    assert len(events("video_play")) == 1
    assert [name for _, name, _ in published] == ["progress.updated", "progress.updated"]


def test_older_reading_does_not_move_progress_back(auth_client, user, content, published):
    put(auth_client, content.pk, 500.0, at=T0 + timedelta(minutes=5))
    # Another device's reading, taken earlier, arrives late.
    response = put(auth_client, content.pk, 50.0, at=T0)

    assert response.status_code == 200
    body = response.json()
    assert body["applied"] is False
    assert body["position_seconds"] == 500.0  # the stored state
    assert body["recorded_at"] == "2026-01-01T12:05:00Z"
    assert WatchProgress.objects.get(user=user, content=content).position_seconds == 500.0
    assert len(published) == 1  # the stale reading published nothing


def test_same_reading_sent_twice_is_not_applied_twice(auth_client, content, published):
    put(auth_client, content.pk, 500.0)
    response = put(auth_client, content.pk, 500.0)

    assert response.json()["applied"] is False
    assert len(published) == 1


def test_completion_threshold_is_ninety_percent(auth_client, user, content):
    put(auth_client, content.pk, 899.0, at=T0)
    assert WatchProgress.objects.get(user=user).completed is False
    assert events("video_complete") == []

    response = put(auth_client, content.pk, 900.0, at=T0 + timedelta(seconds=1))
    assert response.json()["completed"] is True
    assert response.json()["completion_percentage"] == 90.0
    [complete] = events("video_complete")
    assert complete.properties["video_id"] == content.pk
    assert complete.properties["completion_percentage"] == 90.0


def test_video_complete_is_emitted_once_per_crossing(auth_client, content):
    put(auth_client, content.pk, 100.0, at=T0)
    put(auth_client, content.pk, 950.0, at=T0 + timedelta(seconds=1))
    put(auth_client, content.pk, 990.0, at=T0 + timedelta(seconds=2))  # still completed: no new event
    put(auth_client, content.pk, 995.0, at=T0 + timedelta(seconds=1, milliseconds=500))  # stale: nothing
    assert len(events("video_complete")) == 1

    # Rewatching from the start takes it below the threshold; finishing again is a new completion.
    response = put(auth_client, content.pk, 10.0, at=T0 + timedelta(seconds=3))
    assert response.json()["completed"] is False
    put(auth_client, content.pk, 960.0, at=T0 + timedelta(seconds=4))
    assert len(events("video_complete")) == 2
    assert len(events("video_play")) == 1


def test_first_reading_past_the_threshold_is_a_play_and_a_completion(auth_client, content):
    put(auth_client, content.pk, 1000.0)
    assert len(events("video_play")) == 1
    assert len(events("video_complete")) == 1


def test_position_slightly_past_the_end_counts_as_the_end(auth_client, content):
    response = put(auth_client, content.pk, 1003.0, duration=1000.0)

    assert response.status_code == 200
    assert response.json()["position_seconds"] == 1000.0
    assert response.json()["completion_percentage"] == 100.0


def test_device_clock_ahead_of_the_server_counts_as_now(auth_client, user, content):
    future = timezone.now() + timedelta(days=365)
    put(auth_client, content.pk, 100.0, at=future)
    stored = WatchProgress.objects.get(user=user).recorded_at
    assert stored <= timezone.now()

    # A later reading from a correct clock still moves progress: the row was not frozen for a year.
    response = put(auth_client, content.pk, 200.0, at=timezone.now() + timedelta(seconds=1))
    assert response.json()["applied"] is True
    assert WatchProgress.objects.get(user=user).position_seconds == 200.0


BAD_BODIES = [
    ({"position_seconds": -1, "duration_seconds": 100}, "position_seconds", "invalid_position"),
    ({"position_seconds": 10, "duration_seconds": 0}, "duration_seconds", "invalid_duration"),
    ({"position_seconds": 10, "duration_seconds": -5}, "duration_seconds", "invalid_duration"),
    ({"position_seconds": 10, "duration_seconds": 1e12}, "duration_seconds", "invalid_duration"),
    ({"position_seconds": 500, "duration_seconds": 100}, "position_seconds", "position_past_end"),
    ({"position_seconds": "12", "duration_seconds": 100}, "position_seconds", "invalid"),
    ({"position_seconds": "abc", "duration_seconds": 100}, "position_seconds", "invalid"),
    ({"position_seconds": True, "duration_seconds": 100}, "position_seconds", "invalid"),
    ({"position_seconds": None, "duration_seconds": 100}, "position_seconds", "null"),
    ({"position_seconds": 10, "duration_seconds": [100]}, "duration_seconds", "invalid"),
    ({"duration_seconds": 100}, "position_seconds", "required"),
    ({"position_seconds": 10}, "duration_seconds", "required"),
    ({"position_seconds": 10, "duration_seconds": 100, "recorded_at": "yesterday"}, "recorded_at", "invalid"),
    ({"position_seconds": 10, "duration_seconds": 100, "recorded_at": None}, "recorded_at", "null"),
]


@pytest.mark.parametrize(("body", "field", "code"), BAD_BODIES)
def test_bad_input_is_a_400_and_writes_nothing(auth_client, content, published, body, field, code):
    body = {"recorded_at": T0.isoformat(), **body}
    response = auth_client.put(f"/api/v1/progress/{content.pk}/", body, format="json")

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["fields"][field][0]["code"] == code
    assert error["code"] in {"invalid", code}
    assert WatchProgress.objects.count() == 0
    assert not OutboxEvent.objects.filter(name__startswith="video_").exists()
    assert published == []


def test_non_json_numbers_are_a_400(auth_client, content):
    raw = '{"position_seconds": NaN, "duration_seconds": 100, "recorded_at": "2026-01-01T00:00:00Z"}'
    response = auth_client.put(f"/api/v1/progress/{content.pk}/", raw, content_type="application/json")

    assert response.status_code == 400
    assert "error" in response.json()
    assert WatchProgress.objects.count() == 0


@pytest.mark.parametrize(
    "make",
    [
        lambda: None,  # no such content
        lambda: ContentFactory(state=Content.State.DRAFT, published_at=None),
        lambda: ContentFactory(state=Content.State.ARCHIVED),
        lambda: ContentFactory(available_until=timezone.now() - timedelta(days=1)),
        lambda: ContentFactory(available_from=timezone.now() + timedelta(days=1)),
    ],
    ids=["missing", "draft", "archived", "window-ended", "not-yet"],
)
def test_unavailable_content_is_a_404_and_writes_nothing(auth_client, published, make):
    item = make()
    content_id = item.pk if item else 999999
    response = put(auth_client, content_id, 10.0)

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert WatchProgress.objects.count() == 0
    assert not OutboxEvent.objects.filter(name__startswith="video_").exists()
    assert published == []


def test_staff_may_record_progress_on_a_draft_they_preview(api_client):
    from testing.factories import UserFactory

    staff = UserFactory(is_staff=True)
    api_client.force_authenticate(user=staff)
    draft = ContentFactory(state=Content.State.DRAFT, published_at=None)

    assert put(api_client, draft.pk, 10.0).status_code == 200


def test_anonymous_cannot_record(api_client, content):
    response = put(api_client, content.pk, 10.0)
    assert response.status_code in (401, 403)
    assert WatchProgress.objects.count() == 0


def test_get_progress_is_the_users_own(auth_client, other_client, content):
    put(auth_client, content.pk, 250.0)

    mine = auth_client.get(f"/api/v1/progress/{content.pk}/")
    assert mine.status_code == 200
    assert mine.json()["position_seconds"] == 250.0
    theirs = other_client.get(f"/api/v1/progress/{content.pk}/")
    assert theirs.status_code == 404
    assert theirs.json()["error"]["code"] == "no_progress"


def test_each_user_has_their_own_row(auth_client, other_client, user, other_user, content):
    put(auth_client, content.pk, 100.0)
    put(other_client, content.pk, 700.0)

    assert WatchProgress.objects.get(user=user).position_seconds == 100.0
    assert WatchProgress.objects.get(user=other_user).position_seconds == 700.0


def test_a_user_id_in_the_body_is_ignored(auth_client, user, other_user, content):
    body = {"position_seconds": 1, "duration_seconds": 10, "recorded_at": T0.isoformat(), "user_id": other_user.pk}
    auth_client.put(f"/api/v1/progress/{content.pk}/", body, format="json")

    assert list(WatchProgress.objects.values_list("user_id", flat=True)) == [user.pk]


def test_record_query_count(auth_client, content, django_assert_num_queries):
    # One upsert does the availability check, the insert-or-update and the staleness rule. Around it:
    # the savepoint pair (the test's transaction), the video_play outbox row on the first reading, and
    # the user-topic event for the other devices (seq counter upsert, event row).
    # SQLite reads existence first (it has no xmax).
    sqlite_extra = 0 if connection.vendor == "postgresql" else 1
    with django_assert_num_queries(6 + sqlite_extra):
        assert put(auth_client, content.pk, 10.0, at=T0).status_code == 200
    with django_assert_num_queries(5 + sqlite_extra):
        assert put(auth_client, content.pk, 20.0, at=T0 + timedelta(seconds=1)).status_code == 200


@pytest.mark.django_db(transaction=True)
def test_only_plain_updates_skip_the_commit_flush(auth_client, content):
    """Readings that carry an analytics event commit durably; plain position updates need not wait
    for the WAL flush (PostgreSQL only; SQLite has no such setting)."""

    if connection.vendor != "postgresql":
        pytest.skip("synchronous_commit is a PostgreSQL setting; SQLite has none to relax")
    seen = []

    def after_each_statement(execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        if not sql.startswith("SHOW"):  # what the transaction's commit will use, after this statement
            with connection.cursor() as cursor:
                cursor.execute("SHOW synchronous_commit")
                seen.append(cursor.fetchone()[0])
        return result

    def commit_setting(position, at):
        seen.clear()
        with connection.execute_wrapper(after_each_statement):
            assert put(auth_client, content.pk, position, at=at).status_code == 200
        return seen[-1]

    assert commit_setting(10.0, T0) == "on"  # first reading: video_play
    assert commit_setting(20.0, T0 + timedelta(seconds=1)) == "off"  # a plain update
    assert commit_setting(950.0, T0 + timedelta(seconds=2)) == "on"  # video_complete
    assert commit_setting(960.0, T0 + timedelta(seconds=3)) == "off"  # past the threshold already
    with connection.cursor() as cursor:  # SET LOCAL: it ended with its transaction
        cursor.execute("SHOW synchronous_commit")
        assert cursor.fetchone()[0] == "on"


@pytest.mark.django_db(transaction=True)
def test_a_callers_transaction_keeps_its_commit_flush(user, content):
    """Only a transaction of the service's own is relaxed: a caller's may hold writes that must not be."""
    from streaming.viewing import services

    services.progress_record(
        user=user, content_id=content.pk, position_seconds=10, duration_seconds=1000, recorded_at=T0
    )
    with transaction.atomic():
        services.progress_record(
            user=user,
            content_id=content.pk,
            position_seconds=20,
            duration_seconds=1000,
            recorded_at=T0 + timedelta(seconds=1),
        )
        with connection.cursor() as cursor:
            cursor.execute("SHOW synchronous_commit" if connection.vendor == "postgresql" else "SELECT 'on'")
            assert cursor.fetchone()[0] == "on"


def test_content_withdrawn_after_watching_is_a_404_and_keeps_the_row(auth_client, user, content):
    put(auth_client, content.pk, 10.0, at=T0)
    Content.objects.filter(pk=content.pk).update(state=Content.State.ARCHIVED)

    assert put(auth_client, content.pk, 20.0, at=T0 + timedelta(seconds=1)).status_code == 404
    assert WatchProgress.objects.get(user=user).position_seconds == 10.0


def test_visibility_is_decided_per_request_by_kind_of_user_and_the_database_clock(api_client, auth_client, content):
    """The visibility statement is compiled once and reused: it must not freeze the time, the item
    or the kind of user it was first compiled for."""
    from testing.factories import UserFactory

    later = ContentFactory(available_until=timezone.now() + timedelta(days=1))
    assert put(auth_client, content.pk, 10.0).status_code == 200
    assert put(auth_client, later.pk, 10.0).status_code == 200

    Content.objects.filter(pk=later.pk).update(available_until=timezone.now() - timedelta(seconds=1))
    assert put(auth_client, later.pk, 20.0, at=T0 + timedelta(seconds=1)).status_code == 404

    draft = ContentFactory(state=Content.State.DRAFT, published_at=None)
    api_client.force_authenticate(user=UserFactory(is_staff=True))
    assert put(api_client, draft.pk, 10.0).status_code == 200
    assert put(auth_client, draft.pk, 10.0).status_code == 404
