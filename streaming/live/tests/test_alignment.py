"""Aligned delivery, clock-controlled: a socket behind the live edge gets each event when its horizon passes
it, never before (asserted on the frames it receives); rewinding sends nothing again."""

from datetime import UTC, datetime, timedelta

import pytest
from asgiref.sync import async_to_sync
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from rest_framework.test import APIClient

from content.models import Game
from csn.realtime import alignment
from csn.realtime.hub import hub
from csn.representation import datetime_text
from streaming.live.models import Broadcast
from streaming.live.tests.factories import scorekeeper
from streaming.tests.live import Client, db, settle
from testing.factories import LiveGameFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


class FakeClock:
    """The wall clock, moved by the test: delivery's and Django's (so a play posted "now" is timed on it);
    the hub's tiers are woken after each move."""

    def __init__(self, now: float):
        self.now = now

    async def set(self, moment: float) -> None:
        self.now = moment
        hub.align_wake()
        await settle(0.05)


@pytest.fixture
def clock(monkeypatch):
    fake = FakeClock(datetime.now(UTC).timestamp())
    monkeypatch.setattr(alignment.clock, "now", lambda: fake.now)
    monkeypatch.setattr(timezone, "now", lambda: datetime.fromtimestamp(fake.now, UTC))
    return fake


def _text(moment: float) -> str:
    return datetime_text(datetime.fromtimestamp(moment, UTC))


def _post(game, **body):
    api = APIClient()
    api.force_authenticate(_post.keeper)
    response = api.post(f"/api/v1/games/{game.pk}/events/", body, format="json")
    assert response.status_code == 201, response.content
    return response.json()


@pytest.fixture(autouse=True)
def _keeper(db):
    _post.keeper = scorekeeper()


def test_a_socket_30_s_behind_gets_the_goal_30_s_after_it_was_posted_never_earlier(clock):
    game = LiveGameFactory(status=Game.Status.LIVE)

    async def scenario():
        live, behind = await Client().connect(), await Client().connect()
        await live.request({"type": "subscribe", "topic": f"game:{game.pk}"})
        snapshot = await behind.request(
            {"type": "subscribe", "topic": f"game:{game.pk}", "align": True, "horizon": _text(clock.now - 30)}
        )
        assert snapshot["type"] == "snapshot" and snapshot["data"]["game"]["home_score"] == 0
        goal = await db(_post)(game, home_score=1, description="Goal", key_moment="goal")
        posted = parse_datetime(goal["play"]["occurred_at"]).timestamp()
        first = await live.recv()  # the unaligned socket: at once
        assert first["data"]["play"]["description"] == "Goal"
        for offset in (0, 10, 29.8):
            await clock.set(posted + offset)
            assert await behind.nothing(0.1), f"the goal came {offset} s after it was posted"
        await clock.set(posted + 30.1)
        event = await behind.recv()
        assert event["seq"] == first["seq"] == snapshot["seq"] + 1
        assert event["data"]["game"]["home_score"] == 1
        await live.close()
        await behind.close()

    async_to_sync(scenario)()


def test_the_snapshot_is_the_state_at_the_horizon_and_what_came_after_follows_in_order(clock):
    game = LiveGameFactory(status=Game.Status.SCHEDULED)

    async def scenario():
        start = clock.now
        await db(_post)(game, status="live", description="Kick-off")
        await db(_post)(game, home_score=1, description="Goal")
        await db(_post)(game, away_score=1, description="Equaliser")
        clock.now = start + 5
        fan = await Client().connect()
        before = await fan.request(
            {"type": "subscribe", "topic": f"game:{game.pk}", "align": True, "horizon": _text(start - 1)}
        )
        assert before["data"]["plays"] == []  # nothing had happened at that horizon
        assert (before["data"]["game"]["home_score"], before["data"]["game"]["status"]) == (0, "scheduled")
        assert before["horizon"] == _text(start - 1)
        await clock.set(start + 7)  # the horizon is past every play now
        events = await fan.recv_events(3)
        assert [e["seq"] for e in events] == [before["seq"] + 1, before["seq"] + 2, before["seq"] + 3]
        assert [e["data"]["play"]["description"] for e in events] == ["Kick-off", "Goal", "Equaliser"]
        await fan.close()

    async_to_sync(scenario)()


def test_rewinding_sends_nothing_again_and_nothing_new_until_the_horizon_passes_it(clock):
    game = LiveGameFactory(status=Game.Status.LIVE)

    async def scenario():
        fan = await Client().connect()
        await fan.request({"type": "subscribe", "topic": f"game:{game.pk}", "align": True, "horizon": _text(clock.now)})
        goal = await db(_post)(game, home_score=1, description="Goal")
        posted = parse_datetime(goal["play"]["occurred_at"]).timestamp()
        await clock.set(posted + 0.5)
        assert (await fan.recv())["data"]["play"]["description"] == "Goal"
        # Rewind 60 s (the viewer goes back to see it again).
        ack = await fan.request({"type": "align", "horizon": _text(clock.now - 60)})
        assert ack["type"] == "ack" and ack["delay"] == pytest.approx(60, abs=0.01)
        await clock.set(posted + 30)
        second = await db(_post)(game, home_score=2, description="Second goal")
        second_at = parse_datetime(second["play"]["occurred_at"]).timestamp()
        await clock.set(posted + 61)  # the first goal passes again: not re-sent
        assert await fan.nothing(0.1)
        await clock.set(second_at + 59.8)
        assert await fan.nothing(0.1)
        await clock.set(second_at + 60.2)
        event = await fan.recv()
        assert event["data"]["play"]["description"] == "Second goal"
        # Back to the live edge: nothing is pending, nothing comes twice.
        await fan.request({"type": "align", "horizon": _text(clock.now + 100)})
        assert await fan.nothing(0.1)
        await fan.close()

    async_to_sync(scenario)()


def test_moving_forward_delivers_at_once_what_the_new_horizon_has_passed(clock):
    game = LiveGameFactory(status=Game.Status.LIVE)

    async def scenario():
        fan = await Client().connect()
        await fan.request(
            {"type": "subscribe", "topic": f"game:{game.pk}", "align": True, "horizon": _text(clock.now - 40)}
        )
        await db(_post)(game, home_score=1, description="Goal")
        await db(_post)(game, home_score=2, description="Another")
        assert await fan.nothing(0.1)
        await fan.send({"type": "align", "horizon": _text(clock.now + 5)})  # a future horizon: now
        events = await fan.recv_events(2)  # what is due goes out at once, before the ack
        assert [e["data"]["play"]["description"] for e in events] == ["Goal", "Another"]
        ack = await fan.recv()
        assert (ack["type"], ack["delay"]) == ("ack", 0)
        await fan.close()

    async_to_sync(scenario)()


def test_chat_is_aligned_too(clock):
    game = LiveGameFactory(status=Game.Status.LIVE)
    author = UserFactory()

    async def scenario():
        from streaming.live.services.chat import chat_message_post

        fan = await Client().connect()
        snapshot = await fan.request(
            {"type": "subscribe", "topic": f"chat:{game.pk}", "align": True, "horizon": _text(clock.now - 20)}
        )
        assert snapshot["data"]["messages"] == []
        message = await db(chat_message_post)(user=author, game_id=game.pk, text="what a goal")
        posted = message.created_at.timestamp()
        await clock.set(posted + 19.8)
        assert await fan.nothing(0.1)
        await clock.set(posted + 20.2)
        event = await fan.recv()
        assert (event["name"], event["data"]["text"]) == ("chat.message", "what a goal")
        await fan.close()

    async_to_sync(scenario)()


def test_bad_horizons_get_the_error_shape(clock, settings):
    settings.LIVE_ALIGN_REWINDS_PER_MINUTE = 2
    game = LiveGameFactory(status=Game.Status.LIVE)
    Broadcast.objects.create(game=game, started_at=datetime.now(UTC) - timedelta(minutes=10), dvr_window_seconds=3600)

    async def scenario():
        fan = await Client().connect()
        topic = f"game:{game.pk}"
        for bad in (12, "yesterday", "2026-12-03T10:00:00", None):
            reply = await fan.request({"type": "align", "horizon": bad, "ref": 1})
            assert (reply["type"], reply["code"]) == ("error", "invalid_message"), bad
        missing = await fan.request({"type": "align"})
        assert missing["code"] == "invalid_message"
        flag = await fan.request({"type": "subscribe", "topic": topic, "align": "yes"})
        assert flag["code"] == "invalid_message"
        user_topic = await fan.request({"type": "subscribe", "topic": "user", "align": True})
        assert user_topic["code"] == "auth_required"
        unknown = await fan.request({"type": "subscribe", "topic": "game:999999", "align": True})
        assert (unknown["type"], unknown["code"]) == ("error", "not_found")
        assert hub.subscriber_count("game:999999") == 0
        # Before the stream began (inside the hour of DVR, but the first frame was 10 minutes ago).
        early = await fan.request(
            {"type": "subscribe", "topic": topic, "align": True, "horizon": _text(clock.now - 900)}
        )
        assert (early["type"], early["code"]) == ("error", "horizon_out_of_window")
        assert "900" not in early["message"]
        ok = await fan.request({"type": "subscribe", "topic": topic, "align": True, "horizon": _text(clock.now + 3600)})
        assert ok["type"] == "snapshot"  # a horizon in the future counts as now
        for back in (10, 20):
            assert (await fan.request({"type": "align", "horizon": _text(clock.now - back)}))["type"] == "ack"
        limited = await fan.request({"type": "align", "horizon": _text(clock.now - 30)})
        assert (limited["type"], limited["code"]) == ("error", "rate_limited")
        forward = await fan.request({"type": "align", "horizon": _text(clock.now)})
        assert forward["type"] == "ack" and forward["delay"] == 0  # moving forward is never limited
        await fan.close()

    async_to_sync(scenario)()


def test_an_aligned_chat_snapshot_has_the_chat_shape_and_published_messages_only(clock):
    from streaming.live.models import ChatMessage
    from streaming.live.tests.factories import moderator
    from streaming.tests.live import token_for

    game = LiveGameFactory(status=Game.Status.LIVE)
    author, mod = UserFactory(), moderator()
    before = timezone.now() - timedelta(seconds=60)
    for text, status in (("seen", ChatMessage.Status.PUBLISHED), ("held back", ChatMessage.Status.HELD)):
        message = ChatMessage.objects.create(game=game, user=author, text=text, status=status)
        ChatMessage.objects.filter(pk=message.pk).update(created_at=before)
    mod_token = token_for(mod)

    async def scenario():
        fan = await Client().connect()
        snapshot = await fan.request(
            {"type": "subscribe", "topic": f"chat:{game.pk}", "align": True, "horizon": _text(clock.now - 20)}
        )
        data = snapshot["data"]
        assert [m["text"] for m in data["messages"]] == ["seen"]
        assert {"open", "slow_mode_seconds", "mode", "pinned", "polls", "predictions"} <= set(data)
        moderating = await Client().connect()
        await moderating.request({"type": "auth", "token": mod_token})
        queue = await moderating.request({"type": "subscribe", "topic": f"mod:{game.pk}", "align": True})
        assert (queue["type"], queue["code"]) == ("error", "invalid_message")
        await fan.close()
        await moderating.close()

    async_to_sync(scenario)()


def test_load_shedding_never_hands_an_aligned_event_early(clock, settings):
    """Under load (level 3) a crowded chat is sampled for the unaligned sockets; an aligned socket's tier is
    not shed: it still gets every message in seq order, and none before its horizon passes it."""
    from csn.realtime import load
    from streaming.live.services.chat import chat_message_post

    settings.LIVE_SHED_SAMPLE_ROOM = 1
    game = LiveGameFactory(status=Game.Status.LIVE)
    author = UserFactory()

    async def scenario():
        live, behind = await Client().connect(), await Client().connect()
        await live.request({"type": "subscribe", "topic": f"chat:{game.pk}"})
        snapshot = await behind.request(
            {"type": "subscribe", "topic": f"chat:{game.pk}", "align": True, "horizon": _text(clock.now - 20)}
        )
        load.state.level = 3
        try:
            posted = []
            for text in ("one", "two", "three"):
                message = await db(chat_message_post)(user=author, game_id=game.pk, text=text)
                posted.append(message.created_at.timestamp())
            assert "skipped" in [event["name"] for event in await live.recv_events(3)]  # the room is shed
            await clock.set(posted[0] + 19.8)
            assert await behind.nothing(0.1)
            await clock.set(posted[-1] + 20.2)
            events = await behind.recv_events(3)
            assert [event["seq"] for event in events] == [snapshot["seq"] + n for n in (1, 2, 3)]
            assert [event["data"]["text"] for event in events] == ["one", "two", "three"]
        finally:
            load.state.level = 0
            load.state.state_sent.clear()
        await live.close()
        await behind.close()

    async_to_sync(scenario)()


def test_a_drain_tells_aligned_sockets_to_reconnect_like_any_other(clock):
    from csn.realtime import drain

    game = LiveGameFactory(status=Game.Status.LIVE)

    async def scenario():
        fan = await Client().connect()
        topic = f"game:{game.pk}"
        await fan.request({"type": "subscribe", "topic": topic, "align": True, "horizon": _text(clock.now - 30)})
        assert hub.subscriber_count(topic) == 1
        try:
            await drain.drain(window=0)
            told = await fan.recv()
            assert (told["type"], told["reason"]) == ("reconnect", "server_restart")
            closed = await fan.communicator.receive_output(1)
            assert (closed["type"], closed.get("code")) == ("websocket.close", 4012)
        finally:
            drain.draining = False
        assert hub.subscriber_count(topic) == 0 and topic not in hub.aligned
        await fan.close()

    async_to_sync(scenario)()
