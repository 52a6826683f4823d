"""Delivery through the real posthog SDK to a real local HTTP server that speaks PostHog's capture API."""

import logging
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.db import transaction
from django.utils import timezone

from accounts import services as account_services
from analytics.models import OutboxEvent
from analytics.services import delivery, intake, scheduling
from testing.factories import ContentFactory, OutboxEventFactory, UserFactory


def deliver_until_empty(*, rounds=50, **kwargs):
    """Run the delivery loop as the sweep would, letting backoff pass between rounds."""
    for _ in range(rounds):
        delivery.outbox_deliver(**kwargs)
        if not OutboxEvent.objects.filter(status=OutboxEvent.Status.PENDING).exists():
            return
        OutboxEvent.objects.update(next_attempt_at=timezone.now())
    raise AssertionError("rows still pending")


@pytest.mark.django_db
def test_delivery_sends_enriched_events_with_their_uuid_and_timestamp(posthog_settings, fake_posthog):
    viewer = UserFactory()
    account_services.subscription_update(user=viewer, plan="premium", status="active")
    content = ContentFactory(title="Game 7: the last two minutes", year=2025, tags=["nba", "final"], is_premium=True)
    OutboxEvent.objects.all().delete()
    played_at = timezone.now() - timedelta(minutes=5)
    row = OutboxEventFactory(
        name="video_play",
        distinct_id=str(viewer.pk),
        properties={"video_id": content.pk, "position_seconds": 0},
        context={"app_version": "3.2.0", "device": "iPhone15,2", "user_agent": "CSN-iOS/3.2"},
        timestamp=played_at,
    )

    result = delivery.outbox_deliver()

    assert result.sent == 1
    assert not OutboxEvent.objects.exists()  # delivered rows are deleted
    event = fake_posthog.events[str(row.uuid)]
    assert event["event"] == "video_play"
    assert event["distinct_id"] == str(viewer.pk)
    assert event["timestamp"] == played_at.isoformat()
    props = event["properties"]
    assert props["video_id"] == content.pk
    assert props["content_title"] == "Game 7: the last two minutes"
    assert props["content_type"] == "highlight"
    assert props["content_year"] == 2025
    assert props["content_tags"] == ["nba", "final"]
    assert props["content_is_premium"] is True
    assert props["user_plan"] == "premium"
    assert props["$app_version"] == "3.2.0"
    assert props["device"] == "iPhone15,2"
    assert props["$raw_user_agent"] == "CSN-iOS/3.2"
    assert props["$lib"] == "posthog-python"


@pytest.mark.django_db
def test_catalogue_events_are_enriched_by_content_id(posthog_settings, fake_posthog):
    content = ContentFactory(title="Season preview", type="show")
    row = intake.server_event_record(name="content_published", distinct_id="1", properties={"content_id": content.pk})
    delivery.outbox_deliver()
    props = fake_posthog.events[str(row.uuid)]["properties"]
    assert (props["content_title"], props["content_type"]) == ("Season preview", "show")


@pytest.mark.django_db
def test_events_without_content_or_user_are_sent_unenriched(posthog_settings, fake_posthog):
    OutboxEventFactory(name="page_view", distinct_id="not-a-user", properties={"path": "/"})
    delivery.outbox_deliver()
    (event,) = fake_posthog.events.values()
    assert "user_plan" not in event["properties"]
    assert "content_title" not in event["properties"]


@pytest.mark.django_db
def test_delivery_is_batched_and_enrichment_costs_two_queries_per_batch(
    posthog_settings, fake_posthog, django_assert_num_queries
):
    users = [UserFactory() for _ in range(3)]
    contents = [ContentFactory() for _ in range(3)]
    OutboxEvent.objects.all().delete()
    for i in range(30):
        OutboxEventFactory(
            name="video_pause",
            distinct_id=str(users[i % 3].pk),
            properties={"video_id": contents[i % 3].pk, "position_seconds": i},
        )

    # lease, content, plans, delete, and the empty lease that ends the loop (+ savepoints in tests)
    with django_assert_num_queries(9):
        result = delivery.outbox_deliver(batch_size=50)

    assert result.sent == 30 and result.batches == 1
    assert fake_posthog.requests == 1
    assert len(fake_posthog.events) == 30


@pytest.mark.django_db
def test_posthog_down_for_a_while_then_everything_arrives_once(posthog_settings, fake_posthog):
    rows = [OutboxEventFactory(properties={"path": f"/{i}"}) for i in range(25)]
    fake_posthog.fail_next(4)

    deliver_until_empty(batch_size=10)

    assert set(fake_posthog.events) == {str(r.uuid) for r in rows}
    assert all(count == 1 for count in fake_posthog.arrivals.values())
    assert not OutboxEvent.objects.exists()


@pytest.mark.django_db
def test_a_failed_send_backs_off_and_keeps_the_error(posthog_settings, fake_posthog):
    row = OutboxEventFactory()
    fake_posthog.fail_next(1)
    before = timezone.now()

    result = delivery.outbox_deliver()

    row.refresh_from_db()
    assert result.failed == 1 and result.sent == 0
    assert row.attempts == 1
    assert row.status == OutboxEvent.Status.PENDING
    assert "503" in row.last_error
    base = django_settings.ANALYTICS_RETRY_BASE_SECONDS
    assert before + timedelta(seconds=base / 2) <= row.next_attempt_at <= timezone.now() + timedelta(seconds=base)
    # Not due yet: a new run leaves it alone.
    assert delivery.outbox_deliver().batches == 0


def test_backoff_grows_exponentially_with_jitter_and_is_capped(settings):
    settings.ANALYTICS_RETRY_BASE_SECONDS = 5
    settings.ANALYTICS_RETRY_MAX_SECONDS = 1800
    delays = {n: [delivery.retry_delay_seconds(n) for _ in range(200)] for n in (1, 2, 3, 4, 20)}
    assert all(2.5 <= d <= 5 for d in delays[1])
    assert all(5 <= d <= 10 for d in delays[2])
    assert all(20 <= d <= 40 for d in delays[4])
    assert all(900 <= d <= 1800 for d in delays[20])
    assert len({round(d, 6) for d in delays[3]}) > 100  # jittered, not a fixed schedule


def test_every_delay_and_time_limit_stays_below_the_visibility_timeout():
    """Redis redelivers an unacked task after the visibility timeout, and runs an ETA or retry longer
    than it twice: nothing in the delivery path may wait that long."""
    from analytics.tasks import deliver_outbox

    limit = django_settings.CELERY_VISIBILITY_TIMEOUT
    assert django_settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] == limit
    assert delivery.retry_delay_seconds(1000) <= django_settings.ANALYTICS_RETRY_MAX_SECONDS < limit
    assert limit > django_settings.ANALYTICS_KICK_SECONDS
    assert deliver_outbox.time_limit < limit
    assert deliver_outbox.soft_time_limit < deliver_outbox.time_limit
    # one run: its budget plus one batch that may time out, inside the soft limit
    assert (
        deliver_outbox.soft_time_limit
        > django_settings.ANALYTICS_TASK_TIME_BUDGET_SECONDS + django_settings.ANALYTICS_SEND_TIMEOUT_SECONDS
    )
    sweep = django_settings.CELERY_BEAT_SCHEDULE["analytics-deliver-outbox"]
    assert sweep["task"] == deliver_outbox.name
    assert sweep["schedule"] < limit


@pytest.mark.django_db
def test_after_the_last_attempt_a_row_is_dead_and_left_alone(posthog_settings, fake_posthog, settings):
    settings.ANALYTICS_MAX_ATTEMPTS = 3
    row = OutboxEventFactory()
    fake_posthog.fail_next(100)

    for _ in range(5):
        delivery.outbox_deliver()
        OutboxEvent.objects.filter(status=OutboxEvent.Status.PENDING).update(next_attempt_at=timezone.now())

    row.refresh_from_db()
    assert row.status == OutboxEvent.Status.DEAD
    assert row.attempts == 3
    assert "503" in row.last_error
    assert fake_posthog.requests == 3


@pytest.mark.django_db
def test_retrying_dead_rows_delivers_them(posthog_settings, fake_posthog):
    dead = OutboxEventFactory(status=OutboxEvent.Status.DEAD, attempts=12, last_error="503")
    other = OutboxEventFactory(status=OutboxEvent.Status.DEAD, attempts=12, last_error="503")

    assert intake.outbox_retry_dead(ids=[dead.pk]) == 1
    delivery.outbox_deliver()

    assert str(dead.uuid) in fake_posthog.events
    other.refresh_from_db()
    assert other.status == OutboxEvent.Status.DEAD


@pytest.mark.django_db
def test_one_event_posthog_refuses_does_not_hold_back_the_batch(posthog_settings, fake_posthog, monkeypatch):
    good = [OutboxEventFactory() for _ in range(4)]
    bad = OutboxEventFactory(distinct_id="x")
    # The fake refuses (400) any batch holding an event without distinct_id, like PostHog does.
    original = delivery.outbox_message

    def message(row, **kwargs):
        msg = original(row, **kwargs)
        if row.pk == bad.pk:
            del msg["distinct_id"]
        return msg

    monkeypatch.setattr(delivery, "outbox_message", message)
    result = delivery.outbox_deliver()

    assert result.sent == 4
    assert set(fake_posthog.events) == {str(r.uuid) for r in good}
    bad.refresh_from_db()
    assert bad.attempts == 1 and "400" in bad.last_error


@pytest.mark.django_db
def test_without_a_key_events_are_logged_and_removed(settings, caplog):
    settings.POSTHOG_API_KEY = ""
    row = OutboxEventFactory(name="page_view", properties={"path": "/watch/12"})

    with caplog.at_level(logging.INFO, logger="analytics.events"):
        result = delivery.outbox_deliver()

    assert result.sent == 1
    assert not OutboxEvent.objects.exists()
    assert f"analytics event page_view distinct_id=1 uuid={row.uuid}" in caplog.text
    assert "/watch/12" in caplog.text


@pytest.mark.django_db
def test_a_rolled_back_use_case_emits_nothing():
    with pytest.raises(RuntimeError), transaction.atomic():
        intake.server_event_record(name="content_published", distinct_id="1", properties={"content_id": 1})
        raise RuntimeError("the publish failed")
    assert not OutboxEvent.objects.exists()


@pytest.mark.django_db
def test_server_events_that_do_not_match_the_catalogue_are_refused():
    with pytest.raises(ValueError, match="'content_publishd' is not a server event"):
        intake.server_event_record(name="content_publishd", distinct_id="1", properties={})
    with pytest.raises(ValueError, match="'page_view' is not a server event"):
        intake.server_event_record(name="page_view", distinct_id="1", properties={"path": "/"})
    with pytest.raises(ValueError, match="'content_published' does not match the catalogue"):
        intake.server_event_record(name="content_published", distinct_id="1", properties={"content_id": "12"})
    with pytest.raises(ValueError, match="'content_published' does not match the catalogue"):
        intake.server_event_record(name="content_published", distinct_id="1", properties={"content_id": 12, "x": 1})
    intake.server_event_record(name="content_published", distinct_id="1", properties={"content_id": 12})
    assert OutboxEvent.objects.count() == 1  # only the valid one was queued


@pytest.mark.django_db
def test_track_requests_a_delivery_after_commit(django_capture_on_commit_callbacks, settings):
    settings.POSTHOG_API_KEY = ""  # embedded: the delivery runs in-process and logs
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        intake.server_event_record(name="signed_up", distinct_id="1", properties={"method": "email"})
    assert [c[0] if isinstance(c, tuple) else c for c in callbacks] == [scheduling.request_delivery]


@pytest.mark.django_db
def test_embedded_default_logs_app_events_right_after_the_request(
    auth_client, settings, django_capture_on_commit_callbacks, caplog
):
    """No broker and no key (`make run`): the events show in the log and leave the outbox."""
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.POSTHOG_API_KEY = ""
    event = {"name": "page_view", "properties": {"path": "/watch/42"}}
    with caplog.at_level(logging.INFO, logger="analytics.events"), django_capture_on_commit_callbacks(execute=True):
        response = auth_client.post("/api/v1/analytics/events/", {"events": [event]}, format="json")

    assert response.status_code == 202
    assert "analytics event page_view" in caplog.text and "/watch/42" in caplog.text
    assert not OutboxEvent.objects.filter(name="page_view").exists()


@pytest.mark.django_db
def test_a_failing_in_process_delivery_does_not_fail_the_request(
    auth_client, settings, django_capture_on_commit_callbacks, monkeypatch
):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.POSTHOG_API_KEY = ""

    def broken(**kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(delivery, "outbox_deliver", broken)
    event = {"name": "page_view", "properties": {"path": "/"}}
    with django_capture_on_commit_callbacks(execute=True):
        response = auth_client.post("/api/v1/analytics/events/", {"events": [event]}, format="json")

    assert response.status_code == 202
    assert OutboxEvent.objects.filter(name="page_view").exists()  # kept for the next delivery


@pytest.mark.django_db
def test_the_first_ask_after_a_quiet_spell_runs_at_once_and_the_rest_of_its_window_once_at_its_end(
    settings, monkeypatch
):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    queued = []
    monkeypatch.setattr(scheduling, "_queue_task", lambda *, countdown: queued.append(countdown) or True)

    scheduling.request_delivery()
    assert queued == [0]  # a lone event: delivered at once, no countdown
    for _ in range(5):
        scheduling.request_delivery()
    window = settings.ANALYTICS_KICK_SECONDS
    assert len(queued) == 2 and 0 < queued[1] <= window  # one more task, at the window's end

    # Another process asks within the same window: its commits are covered by that task.
    monkeypatch.setattr(scheduling, "_quiet_until", float("-inf"))
    scheduling.request_delivery()
    assert len(queued) == 2

    from django.core.cache import cache

    cache.clear()  # the window passed: quiet spell over, at once again
    monkeypatch.setattr(scheduling, "_quiet_until", float("-inf"))
    scheduling.request_delivery()
    assert queued[2:] == [0]


@pytest.mark.django_db
def test_the_window_really_closes_after_its_fraction_of_a_second(settings, monkeypatch):
    import time

    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.ANALYTICS_KICK_SECONDS = 0.2
    queued = []
    monkeypatch.setattr(scheduling, "_queue_task", lambda *, countdown: queued.append(countdown) or True)
    scheduling.request_delivery()
    scheduling.request_delivery()
    time.sleep(0.3)
    scheduling.request_delivery()
    assert queued[0] == 0 and 0 < queued[1] <= 0.2 and queued[2] == 0


@pytest.mark.django_db
def test_a_wrong_key_fails_the_batch_once_without_sending_rows_one_by_one(posthog_settings, fake_posthog, settings):
    settings.POSTHOG_API_KEY = "phc_wrong"
    rows = [OutboxEventFactory() for _ in range(5)]

    result = delivery.outbox_deliver()

    assert result.failed == 5 and fake_posthog.requests == 1
    for row in rows:
        row.refresh_from_db()
        assert row.attempts == 1 and "401" in row.last_error and "phc_wrong" not in row.last_error


@pytest.mark.django_db
def test_an_ask_within_the_window_after_this_process_queued_touches_neither_cache_nor_broker(settings, monkeypatch):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    queued, cache_calls = [], []
    monkeypatch.setattr(scheduling, "_queue_task", lambda *, countdown: queued.append(countdown) or True)
    scheduling.request_delivery()
    scheduling.request_delivery()
    assert len(queued) == 2  # at once, and at the window's end

    from django.core.cache import cache

    monkeypatch.setattr(cache, "add", lambda *args, **kwargs: cache_calls.append(args) or True)
    for _ in range(20):
        scheduling.request_delivery()

    assert cache_calls == [] and len(queued) == 2  # only the in-process clock was read


@pytest.mark.django_db
def test_a_process_finding_another_s_ask_stays_quiet_until_that_task_starts(settings, monkeypatch):
    import time

    from django.core.cache import cache

    settings.CELERY_TASK_ALWAYS_EAGER = False
    queued, adds = [], []
    monkeypatch.setattr(scheduling, "_queue_task", lambda *, countdown: queued.append(countdown) or True)
    # Another process opened the window and queued the task at its end.
    window = settings.ANALYTICS_KICK_SECONDS
    end = time.time() + window
    cache.add(scheduling._WINDOW_KEY, end, timeout=window)
    cache.add(f"{scheduling._WINDOW_KEY}:{end}", True, timeout=window + 1)
    real_add = cache.add
    monkeypatch.setattr(cache, "add", lambda *args, **kwargs: adds.append(args) or real_add(*args, **kwargs))

    for _ in range(20):
        scheduling.request_delivery()

    assert queued == []  # the other process's task covers these commits
    # One look at the keys, then quiet until that task starts, no longer.
    assert len(adds) == 2
    quiet_for = scheduling._quiet_until - time.time()
    assert 0 < quiet_for <= window
