"""Presence: heartbeats keep sessions, stale ones close, disconnect closes, counts, plan limits."""

import threading
from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.services import subscription_update, token_issue
from csn.realtime.models import LiveEvent
from streaming.live import tasks
from streaming.live.models import LiveSession
from streaming.live.services.presence import TRAILING_PUSH_THREAD, presence_heartbeat
from streaming.live.topics import game_topic
from streaming.tests.live import Client, db
from testing.factories import LiveGameFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def _api(user) -> APIClient:
    api = APIClient()
    api.force_authenticate(user)
    return api


def test_http_heartbeat_starts_then_keeps_one_session():
    game, user = LiveGameFactory(), UserFactory()
    api = _api(user)
    first = api.post(f"/api/v1/games/{game.pk}/heartbeat/", {"device": "tv"})
    assert first.status_code == 200
    body = first.json()
    assert body["viewers"] == 1
    again = api.post(f"/api/v1/games/{game.pk}/heartbeat/", {"session_id": body["session_id"]})
    assert again.json()["session_id"] == body["session_id"]
    session = LiveSession.objects.get()
    assert (session.device, session.ended_at) == ("tv", None)
    assert session.last_heartbeat_at >= session.started_at


def test_heartbeat_with_a_known_session_is_cheap(django_assert_num_queries):
    game, user = LiveGameFactory(), UserFactory()
    api = _api(user)
    session_id = api.post(f"/api/v1/games/{game.pk}/heartbeat/", {}).json()["session_id"]
    with django_assert_num_queries(5):  # savepoint pair, update, fetch, count
        api.post(f"/api/v1/games/{game.pk}/heartbeat/", {"session_id": session_id})


def test_concurrent_streams_are_limited_by_plan():
    games = [LiveGameFactory() for _ in range(4)]
    free = UserFactory()
    api = _api(free)
    assert api.post(f"/api/v1/games/{games[0].pk}/heartbeat/", {}).status_code == 200
    refused = api.post(f"/api/v1/games/{games[1].pk}/heartbeat/", {})
    assert (refused.status_code, refused.json()["error"]["code"]) == (409, "stream_limit")
    assert (refused.json()["error"]["limit"], refused.json()["error"]["fields"]) == (1, {})
    assert (refused.json()["limit"], refused.json()["fields"]) == (1, {})

    premium = UserFactory()
    subscription_update(user=premium, plan="premium", status="active")
    premium.refresh_from_db()
    for game in games[:3]:
        presence_heartbeat(user=premium, game_id=game.pk)
    refused = _api(premium).post(f"/api/v1/games/{games[3].pk}/heartbeat/", {})
    assert refused.json()["error"]["code"] == "stream_limit"


def test_a_silent_session_is_over_after_45_seconds_and_the_job_closes_it():
    game, user = LiveGameFactory(), UserFactory()
    session = presence_heartbeat(user=user, game_id=game.pk)
    LiveSession.objects.filter(pk=session.pk).update(last_heartbeat_at=timezone.now() - timedelta(seconds=46))
    # Already over: it no longer counts against the plan.
    second = presence_heartbeat(user=user, game_id=game.pk)
    assert second.pk != session.pk
    assert tasks.presence_close_stale() == 1
    session.refresh_from_db()
    assert session.ended_at is not None
    assert LiveSession.objects.filter(ended_at=None).count() == 1


def test_socket_heartbeat_counts_viewers_and_disconnect_ends_the_session():
    game = LiveGameFactory()
    viewer, other = UserFactory(), UserFactory()
    tokens = [token_issue(user=u).key for u in (viewer, other)]

    async def scenario():
        fan = await Client().connect()
        snapshot = await fan.request({"type": "subscribe", "topic": f"game:{game.pk}"})
        assert snapshot["data"]["viewers"] == 0
        watchers = []
        for token in tokens:
            watcher = await Client().connect()
            await watcher.request({"type": "auth", "token": token})
            ack = await watcher.request({"type": "heartbeat", "game": game.pk, "device": "web", "ref": "hb"})
            assert ack["type"] == "ack" and ack["session"]
            watchers.append(watcher)
        # Two changes inside one second: the first is pushed at once, the second when the second ends.
        assert await db(LiveEvent.objects.filter(name="viewers").count)() == 1
        counts = [e["data"]["count"] for e in await fan.recv_events(2, timeout=5)]
        assert counts == [1, 2]
        await watchers[0].close()
        assert await db(LiveSession.objects.filter(ended_at=None).count)() == 1
        (event,) = await fan.recv_events(1, timeout=5)
        assert event["data"]["count"] == 1
        await watchers[1].close()
        await fan.close()

    async_to_sync(scenario)()


def test_periodic_jobs_are_scheduled_and_old_events_are_pruned(settings):
    from csn.celery import app
    from csn.realtime import tasks as realtime_tasks
    from csn.realtime.publish import publish

    tasks_scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {"streaming.presence_close_stale", "realtime.live_events_prune"} <= tasks_scheduled
    app.loader.import_default_modules()  # what a worker and beat discover
    assert tasks_scheduled <= set(app.tasks)  # every scheduled name is a task the worker knows
    game = LiveGameFactory()
    publish(topic=game_topic(game.pk), name="old", data={})
    publish(topic=game_topic(game.pk), name="new", data={})
    LiveEvent.objects.filter(name="old").update(created_at=timezone.now() - timedelta(hours=49))
    assert realtime_tasks.live_events_prune() == 1
    assert list(LiveEvent.objects.values_list("name", flat=True)) == ["new"]


def test_viewer_counts_are_pushed_at_most_once_a_second_and_the_last_change_is_not_lost():
    game = LiveGameFactory()
    topic = game_topic(game.pk)
    for _ in range(3):  # three viewers join within one second
        presence_heartbeat(user=UserFactory(), game_id=game.pk)

    def counts():
        pushed = LiveEvent.objects.filter(topic=topic, name="viewers").order_by("seq")
        return list(pushed.values_list("data__count", flat=True))

    assert counts() == [1]  # the first change at once; the rest wait for the window's end
    for thread in threading.enumerate():
        if thread.name == TRAILING_PUSH_THREAD:
            thread.join(5)
    assert counts() == [1, 3]  # one trailing push carries the count as it is then
