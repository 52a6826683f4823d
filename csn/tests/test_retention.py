"""Retention: each beat job deletes only what is past its setting, in bounded batches."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from analytics import tasks as analytics_tasks
from analytics.models import OutboxEvent
from csn.realtime import tasks as realtime_tasks
from csn.realtime.models import LiveEvent
from csn.retention import delete_in_batches
from streaming.fans import tasks as fans_tasks
from streaming.fans.models import Notification
from streaming.live import tasks as live_tasks
from streaming.live.models import ChatMessage, LiveSession
from testing.factories import LiveGameFactory, OutboxEventFactory, UserFactory

pytestmark = pytest.mark.django_db

DAY = timedelta(days=1)


def _aged(queryset, field: str, age: timedelta) -> None:
    queryset.update(**{field: timezone.now() - age})


def test_every_retention_job_is_scheduled_by_beat():
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {
        "realtime.live_events_prune",
        "streaming.chat_messages_prune",
        "streaming.live_sessions_prune",
        "streaming.notifications_read_prune",
        "analytics.outbox_dead_prune",
    } <= scheduled


def test_live_events_past_the_replay_window_go(settings):
    settings.LIVE_EVENT_RETENTION_HOURS = 48
    old = LiveEvent.objects.create(topic="game:1", seq=1, name="viewers", data={})
    kept = LiveEvent.objects.create(topic="game:1", seq=2, name="viewers", data={})
    _aged(LiveEvent.objects.filter(pk=old.pk), "created_at", timedelta(hours=49))
    _aged(LiveEvent.objects.filter(pk=kept.pk), "created_at", timedelta(hours=47))

    assert realtime_tasks.live_events_prune() == 1
    assert list(LiveEvent.objects.values_list("pk", flat=True)) == [kept.pk]


def _chat(game, user, text="hi"):
    return ChatMessage.objects.create(game=game, user=user, user_name="u", text=text)


def test_chat_messages_older_than_the_setting_go(settings):
    settings.RETAIN_CHAT_DAYS = 30
    game, user = LiveGameFactory(), UserFactory()
    old, kept = _chat(game, user, "old"), _chat(game, user, "new")
    _aged(ChatMessage.objects.filter(pk=old.pk), "created_at", 31 * DAY)
    _aged(ChatMessage.objects.filter(pk=kept.pk), "created_at", 29 * DAY)

    assert live_tasks.chat_messages_prune() == 1
    assert list(ChatMessage.objects.values_list("text", flat=True)) == ["new"]


def test_only_sessions_that_ended_long_ago_go(settings):
    settings.RETAIN_LIVE_SESSIONS_DAYS = 30
    game, user = LiveGameFactory(), UserFactory()
    now = timezone.now()
    ended_long_ago = LiveSession.objects.create(game=game, user=user, last_heartbeat_at=now, ended_at=now - 31 * DAY)
    ended_lately = LiveSession.objects.create(game=game, user=user, last_heartbeat_at=now, ended_at=now - 29 * DAY)
    open_old = LiveSession.objects.create(game=game, user=user, last_heartbeat_at=now - 40 * DAY)

    assert live_tasks.live_sessions_prune() == 1
    assert set(LiveSession.objects.values_list("pk", flat=True)) == {ended_lately.pk, open_old.pk}
    assert not LiveSession.objects.filter(pk=ended_long_ago.pk).exists()


def test_read_notifications_go_after_the_setting_unread_ones_stay(settings):
    settings.RETAIN_READ_NOTIFICATIONS_DAYS = 90
    user = UserFactory()
    now = timezone.now()

    def note(title, read_at):
        return Notification.objects.create(user=user, kind="announcement", title=title, read_at=read_at)

    note("read long ago", now - 91 * DAY)
    note("read lately", now - 89 * DAY)
    unread = note("unread", None)
    _aged(Notification.objects.filter(pk=unread.pk), "created_at", 400 * DAY)

    assert fans_tasks.notifications_read_prune() == 1
    assert set(Notification.objects.values_list("title", flat=True)) == {"read lately", "unread"}


def test_dead_outbox_rows_go_after_the_setting_pending_ones_never(settings):
    settings.RETAIN_DEAD_OUTBOX_DAYS = 30
    dead_old = OutboxEventFactory(status=OutboxEvent.Status.DEAD)
    dead_new = OutboxEventFactory(status=OutboxEvent.Status.DEAD)
    pending_old = OutboxEventFactory()
    _aged(OutboxEvent.objects.filter(pk__in=[dead_old.pk, pending_old.pk]), "created_at", 31 * DAY)

    assert analytics_tasks.outbox_dead_prune() == 1
    assert set(OutboxEvent.objects.values_list("pk", flat=True)) == {dead_new.pk, pending_old.pk}


def test_a_run_deletes_at_most_its_batches_and_the_next_run_goes_on():
    rows = [LiveEvent.objects.create(topic="game:9", seq=n, name="x", data={}) for n in range(1, 8)]
    old = LiveEvent.objects.filter(pk__in=[row.pk for row in rows])

    from prometheus_client import REGISTRY

    def counted():
        return REGISTRY.get_sample_value("csn_retention_deleted_total", {"what": "test"}) or 0

    before = counted()
    assert delete_in_batches(old, what="test", batch_size=2, max_batches=2) == 4
    assert old.count() == 3
    assert delete_in_batches(old, what="test", batch_size=2, max_batches=2) == 3
    assert old.count() == 0
    assert delete_in_batches(old, what="test", batch_size=2, max_batches=2) == 0
    assert counted() - before == 7  # csn_retention_deleted_total{what}


def test_outbox_measure_reports_backlog_and_oldest_age():
    from prometheus_client import REGISTRY

    OutboxEventFactory(status=OutboxEvent.Status.DEAD)
    old = OutboxEventFactory()
    OutboxEventFactory()
    _aged(OutboxEvent.objects.filter(pk=old.pk), "created_at", timedelta(seconds=120))

    result = analytics_tasks.outbox_measure()

    assert (result["pending"], result["dead"]) == (2, 1)
    assert 119 <= result["oldest_age"] < 180
    assert REGISTRY.get_sample_value("csn_outbox_backlog", {"status": "pending"}) == 2
    assert REGISTRY.get_sample_value("csn_outbox_backlog", {"status": "dead"}) == 1
    assert 119 <= REGISTRY.get_sample_value("csn_outbox_oldest_age_seconds") < 180
