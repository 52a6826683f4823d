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
        assert first.items[0].frame == '{"type":"batch","events":[{"seq":1},{"seq":2}]}'
        assert elsewhere.items == []
        hub.deliver("chat:1", 3, '{"seq":3}')  # idle again: sent at once, unbatched
        await asyncio.sleep(0)
        assert first.items[1].frame == '{"seq":3}'
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
        assert [item.frame for item in costly.items] == ['{"seq":1}']  # idle: at once
        paced_until = hub.next_pass["chat:1"]
        assert paced_until - loop.time() > 0.03  # twice the 20 ms the pass took

        for seq in (2, 3, 4):
            hub.deliver("chat:1", seq, f'{{"seq":{seq}}}')
        hub.deliver("chat:2", 1, '{"other":1}')
        await asyncio.sleep(0)
        assert len(costly.items) == 1  # held back until the pace allows
        assert [item.frame for item in other.items] == ['{"other":1}']  # other topics are not paced
        await asyncio.sleep(paced_until - loop.time() + 0.01)
        assert len(costly.items) == 2
        assert costly.items[1].frame == '{"type":"batch","events":[{"seq":2},{"seq":3},{"seq":4}]}'
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
