"""The process hub: per-topic registration, coalescing into one frame encoded once, leaving."""

import asyncio

import pytest
from django.conf import settings as django_settings

from csn.realtime.hub import Hub


def _local_hub() -> Hub:
    """A hub fed in-process (no Redis), as in the embedded default."""
    hub = Hub()
    hub.redis_url = ""
    return hub


class Recorder:
    def __init__(self):
        self.items = []

    def hub_push(self, item):
        self.items.append(item)


def test_events_of_one_loop_turn_go_out_as_one_shared_batch_frame(settings):
    settings.REDIS_URL = ""
    # No pacing: on a loaded machine a pass over two recorders can pass the 1 ms below which the next
    # pass is not delayed, and this test would wait on the clock (pacing is tested below, with its costs).
    settings.LIVE_PACE_FACTOR = 0

    async def scenario():
        hub = _local_hub()
        first, second, elsewhere = Recorder(), Recorder(), Recorder()
        await hub.join("chat:1", first)
        await hub.join("chat:1", second)
        await hub.join("chat:2", elsewhere)
        hub.deliver("chat:1", 2, '{"seq":2}')
        hub.deliver("chat:1", 1, '{"seq":1}')
        hub.deliver("chat:9", 1, '{"nobody":1}')  # no local follower: dropped
        await asyncio.sleep(0)
        assert len(first.items) == 1 and first.items[0] is second.items[0]  # encoded once, shared
        assert first.items[0].frames == ['{"type":"batch","events":[{"seq":1},{"seq":2}]}']
        assert elsewhere.items == []
        hub.deliver("chat:1", 3, '{"seq":3}')  # idle again: sent at once, unbatched
        await asyncio.sleep(0)
        assert first.items[1].frames == ['{"seq":3}']
        await hub.leave("chat:1", first)
        hub.deliver("chat:1", 4, '{"seq":4}')
        await asyncio.sleep(0)
        assert len(first.items) == 2 and len(second.items) == 3
        await hub.leave("chat:1", second)
        assert hub.subscriber_count("chat:1") == 0 and "chat:1" not in hub.topics

    asyncio.run(scenario())


class SlowRecorder(Recorder):
    """A pass over this subscriber costs `cost` seconds, like a pass over many sockets."""

    def __init__(self, cost):
        super().__init__()
        self.cost = cost

    def hub_push(self, item):
        import time

        time.sleep(self.cost)
        super().hub_push(item)


def test_a_costly_pass_paces_the_topic_and_what_arrives_meanwhile_goes_out_as_one_frame(settings):
    settings.LIVE_PACE_FACTOR = 2

    async def scenario():
        hub = _local_hub()
        loop = asyncio.get_running_loop()
        costly, other = SlowRecorder(0.02), Recorder()
        await hub.join("chat:1", costly)
        await hub.join("chat:2", other)
        hub.deliver("chat:1", 1, '{"seq":1}')
        await asyncio.sleep(0)
        assert [item.frames[0] for item in costly.items] == ['{"seq":1}']  # idle: at once
        paced_until = hub.next_pass["chat:1"]
        assert paced_until - loop.time() > 0.03  # twice the 20 ms the pass took

        for seq in (2, 3, 4):
            hub.deliver("chat:1", seq, f'{{"seq":{seq}}}')
        hub.deliver("chat:2", 1, '{"other":1}')
        await asyncio.sleep(0)
        assert len(costly.items) == 1  # held back until the pace allows
        assert [item.frames[0] for item in other.items] == ['{"other":1}']  # other topics are not paced
        await asyncio.sleep(paced_until - loop.time() + 0.01)
        assert len(costly.items) == 2
        assert costly.items[1].frames == ['{"type":"batch","events":[{"seq":2},{"seq":3},{"seq":4}]}']
        await hub.leave("chat:1", costly)
        assert "chat:1" not in hub.next_pass

    asyncio.run(scenario())


def test_the_pace_is_bounded_whatever_one_pass_took(settings):
    settings.LIVE_PACE_FACTOR = 100

    async def scenario():
        from csn.realtime.hub import MAX_PACE_SECONDS

        hub = _local_hub()
        await hub.join("chat:1", SlowRecorder(0.02))
        hub.deliver("chat:1", 1, '{"seq":1}')
        await asyncio.sleep(0)
        assert hub.next_pass["chat:1"] - asyncio.get_running_loop().time() <= MAX_PACE_SECONDS

    asyncio.run(scenario())


def test_under_load_a_sampled_chat_room_is_paced_further_apart_and_the_game_topic_is_not(settings):
    """Level 3 (csn.realtime.load): a sampled room's passes wait LIVE_SHED_SAMPLED_PACE times longer, so
    its sockets get fewer, larger frames; a game's topic (scores) keeps its own pace."""
    from csn.realtime import load
    from csn.realtime.frames import encode_event

    settings.LIVE_PACE_FACTOR, settings.LIVE_SHED_SAMPLED_PACE = 2, 4
    settings.LIVE_SHED_SAMPLE_ROOM = 1

    def event(topic, seq, name):
        return encode_event(topic=topic, seq=seq, name=name, data={"user": {"id": 1}})

    async def scenario():
        hub = _local_hub()
        loop = asyncio.get_running_loop()
        await hub.join("chat:1", SlowRecorder(0.02))
        await hub.join("game:1", SlowRecorder(0.02))
        load.state.level = 3
        hub.deliver("chat:1", 1, event("chat:1", 1, "chat.message"))
        await asyncio.sleep(0)
        chat_wait = hub.next_pass["chat:1"] - loop.time()
        assert chat_wait > 0.15  # at least 20 ms x 2 x 4
        hub.deliver("game:1", 1, event("game:1", 1, "game.event"))
        await asyncio.sleep(0)
        game_wait = hub.next_pass["game:1"] - loop.time()
        assert game_wait < chat_wait / 2  # 20 ms x 2: a pass as costly, paced as usual

    asyncio.run(scenario())


needs_redis = pytest.mark.skipif(
    not django_settings.REDIS_URL,
    reason="needs Redis: the embedded default has no pub/sub connection that could drop (CI runs it on Redis)",
)


def _publish_committed(topic: str, n: int) -> None:
    from django.db import transaction

    from csn.realtime.publish import publish

    with transaction.atomic():
        publish(topic=topic, name="note", data={"n": n})


async def _cut_subscriptions_and_publish(topic: str, numbers) -> None:
    """Cut the hub's pub/sub connection, then publish while it is away: pub/sub drops those messages."""
    import redis
    from asgiref.sync import sync_to_async

    client = redis.Redis.from_url(django_settings.REDIS_URL)
    try:
        assert client.client_kill_filter(_type="pubsub") >= 1
        await asyncio.sleep(0.05)
        for n in numbers:
            await sync_to_async(_publish_committed)(topic, n)
    finally:
        client.close()


async def _seqs_received(recorder: Recorder, count: int, timeout: float = 10.0) -> list[int]:
    deadline = asyncio.get_running_loop().time() + timeout
    while sum(len(item.events) for item in recorder.items) < count:
        assert asyncio.get_running_loop().time() < deadline, recorder.items
        await asyncio.sleep(0.02)
    return [seq for item in recorder.items for seq, _ in item.events]


@pytest.mark.django_db(transaction=True)
@needs_redis
def test_after_its_pubsub_connection_drops_the_hub_replays_what_its_topics_missed():
    from asgiref.sync import sync_to_async

    topic = "game:424242"
    recorder = Recorder()

    async def scenario():
        hub = Hub()
        await hub.join(topic, recorder)
        await sync_to_async(_publish_committed)(topic, 1)
        assert await _seqs_received(recorder, 1) == [1]

        await _cut_subscriptions_and_publish(topic, [2, 3])
        seqs = await _seqs_received(recorder, 3)
        assert sorted(set(seqs)) == [1, 2, 3]
        await hub.leave(topic, recorder)
        hub._reader.cancel()

    asyncio.run(scenario())


@pytest.mark.django_db(transaction=True)
@needs_redis
def test_a_topic_without_an_event_since_the_process_followed_it_is_replayed_after_a_reconnect_too():
    topic = "game:434343"
    recorder = Recorder()
    _publish_committed(topic, 1)  # before this process follows the topic: its sockets got a snapshot

    async def scenario():
        hub = Hub()
        await hub.join(topic, recorder)
        # No event of the topic reached this process yet when its subscription is cut.
        await _cut_subscriptions_and_publish(topic, [2, 3])
        await _seqs_received(recorder, 2)
        await asyncio.sleep(0.1)  # nothing older follows
        assert sorted({seq for item in recorder.items for seq, _ in item.events}) == [2, 3]
        await hub.leave(topic, recorder)
        hub._reader.cancel()

    asyncio.run(scenario())


def test_a_late_fan_out_is_logged_with_the_ids_of_the_requests_that_published(settings, caplog):
    """The request id travels with a live event (csn.requestid): a pass later than
    LIVE_SLOW_FANOUT_LOG_SECONDS after the publish names the requests, so the log leads back to them."""
    import time

    settings.REDIS_URL = ""

    async def scenario():
        hub = _local_hub()
        await hub.join("game:1", Recorder())
        hub.deliver("game:1", 1, '{"seq":1}', time.time() - 0.01, "req-on-time")
        await asyncio.sleep(0)
        hub.deliver("game:1", 2, '{"seq":2}', time.time() - 2 * django_settings.LIVE_SLOW_FANOUT_LOG_SECONDS, "req-a")
        hub.deliver("game:1", 3, '{"seq":3}', time.time(), "req-b")
        await asyncio.sleep(0.6)  # past the topic's pace

    with caplog.at_level("WARNING", logger="csn.realtime.hub"):
        asyncio.run(scenario())
    (record,) = [r for r in caplog.records if "slow fan-out" in r.getMessage()]
    assert "game:1" in record.getMessage() and "req-a,req-b" in record.getMessage()


class Aligned(Recorder):
    """An aligned subscriber: the consumer's own filter (never a seq twice) is in streaming.live.aligned."""


def test_aligned_sockets_share_one_frame_per_delay_tier_and_get_events_when_their_horizon_passes(monkeypatch):
    from csn.realtime import alignment

    now = [1000.0]
    monkeypatch.setattr(alignment.clock, "now", lambda: now[0])

    async def scenario():
        hub = _local_hub()
        a, b, c, live = Aligned(), Aligned(), Aligned(), Recorder()
        await hub.join("game:1", live)
        for subscriber, lag in ((a, 10.0), (b, 9.95), (c, 30.0)):  # a and b: the same 0.1 s tier
            await hub.join("game:1", subscriber, lag=lag)
            hub.align("game:1", subscriber, lag=lag, since=0)
        assert len(hub.aligned["game:1"].tiers) == 2
        hub.deliver("game:1", 1, '{"seq":1}', at=1000.0)
        await asyncio.sleep(0)
        assert [item.frames[0] for item in live.items] == ['{"seq":1}']  # unaligned: at once
        now[0] = 1009.99
        hub.align_wake()
        assert a.items == b.items == []  # b's delay is rounded up to its tier's: never early
        now[0] = 1010.0
        hub.align_wake()
        assert len(a.items) == 1 and a.items[0] is b.items[0] and c.items == []  # one frame per tier
        assert a.items[0].frames == ['{"seq":1}']  # the publisher's encoded frame itself
        hub.deliver("game:1", 2, '{"seq":2}', at=1005.0)  # timed before its predecessor: goes after it
        hub.deliver("game:1", 3, '{"seq":3}', at=1015.0)
        now[0] = 1030.0
        hub.align_wake()
        assert [item.frames[0] for item in c.items] == ['{"seq":1}']
        assert [item.frames[0] for item in a.items][1:] == ['{"type":"batch","events":[{"seq":2},{"seq":3}]}']
        # A socket that moves to an earlier horizon gets at once what that tier has handed on.
        hub.align("game:1", c, lag=0.0, since=1)
        assert c.items[-1].frames == ['{"type":"batch","events":[{"seq":2},{"seq":3}]}']
        for subscriber in (a, b, c, live):
            await hub.leave("game:1", subscriber)
        assert "game:1" not in hub.aligned and hub.subscriber_count("game:1") == 0

    asyncio.run(scenario())


def test_the_redis_wire_format_carries_publish_time_request_and_event_time_and_reads_the_older_ones():
    from csn.realtime.hub import wire_decode, wire_encode

    frame = '{"data":{"text":"a|b"}}'  # a `|` inside the frame is the frame's
    assert wire_decode(wire_encode(7, frame, 1000.5, "req-1", 990.25)) == (7, frame, 1000.5, "req-1", 990.25)
    assert wire_decode(wire_encode(7, frame, 1000.5, None)) == (7, frame, 1000.5, None, None)
    # What the processes of the two releases before publish, during a rolling deploy:
    assert wire_decode(f"7|1000.500000|req-1|{frame}") == (7, frame, 1000.5, "req-1", None)
    assert wire_decode(f"7|{frame}") == (7, frame, None, None, None)


def test_an_event_without_its_own_time_is_timed_at_its_publication_for_aligned_sockets(monkeypatch):
    from csn.realtime import alignment

    now = [1000.0]
    monkeypatch.setattr(alignment.clock, "now", lambda: now[0])

    async def scenario():
        hub = _local_hub()
        behind = Aligned()
        await hub.join("game:1", behind, lag=10.0)
        hub.align("game:1", behind, lag=10.0, since=0)
        hub.deliver("game:1", 1, '{"seq":1}', 995.0, "req-1")  # an older publisher: no `at`
        now[0] = 1004.9
        hub.align_wake()
        assert behind.items == []
        now[0] = 1005.0
        hub.align_wake()
        assert [item.frames[0] for item in behind.items] == ['{"seq":1}']
        await hub.leave("game:1", behind)

    asyncio.run(scenario())


def test_aligned_sockets_count_in_the_subscription_metric_once_whatever_their_tier():
    from prometheus_client import REGISTRY

    def subscriptions() -> float:
        return REGISTRY.get_sample_value("csn_live_subscriptions", {"kind": "game"}) or 0.0

    async def scenario():
        hub = _local_hub()
        before = subscriptions()
        behind, live = Aligned(), Recorder()
        await hub.join("game:1", live)
        await hub.join("game:1", behind, lag=5.0)
        assert subscriptions() == before + 2 and hub.subscriber_count("game:1") == 2
        hub.align("game:1", behind, lag=20.0, since=0)  # a new horizon: another tier, the same subscription
        await hub.join("game:1", behind, lag=7.0)  # subscribed again
        assert subscriptions() == before + 2 and hub.subscriber_count("game:1") == 2
        await hub.join("game:1", behind)  # again, unaligned now: out of the tiers
        assert subscriptions() == before + 2 and "game:1" not in hub.aligned
        await hub.join("game:1", behind, lag=3.0)  # and aligned again: out of the unaligned sockets
        assert hub.topics["game:1"] == {live} and hub.subscriber_count("game:1") == 2
        for subscriber in (live, behind, behind):  # leaving twice counts once
            await hub.leave("game:1", subscriber)
        assert subscriptions() == before and hub.subscriber_count("game:1") == 0

    asyncio.run(scenario())


@pytest.mark.django_db
def test_events_replayed_after_a_reconnect_keep_their_own_time_apart_from_the_fan_out_lag(monkeypatch):
    """A replayed event's `at` (when its play happened) times it for aligned sockets; it is not its publish
    time, so an hour-old play replayed now is no hour of fan-out lag (which would raise the load level)."""
    import time

    from csn.realtime import hub as hub_module
    from csn.realtime import load

    played = time.time() - 3600
    monkeypatch.setattr(hub_module, "topic_replay", lambda **kwargs: [(5, "game.event", {"n": 5}, played)])
    lags = []
    monkeypatch.setattr(load, "fanout_observed", lags.append)

    async def scenario():
        hub = _local_hub()
        live, behind = Recorder(), Aligned()
        await hub.join("game:1", live)
        await hub.join("game:1", behind, lag=10.0)
        hub.last_seq["game:1"] = 4
        await hub._replay_missed()
        await asyncio.sleep(0.01)
        assert [item.last_seq for item in live.items] == [5] and lags and max(lags) < 60
        assert [item.last_seq for item in behind.items] == [5]  # due an hour ago: at once
        for subscriber in (live, behind):
            await hub.leave("game:1", subscriber)

    asyncio.run(scenario())
