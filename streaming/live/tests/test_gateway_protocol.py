"""The websocket protocol: replies, limits and errors, topics, snapshot then events, resume."""

import asyncio
import re
from collections import deque
from pathlib import Path

import pytest
from asgiref.sync import async_to_sync
from django.conf import settings
from django.db import transaction

from accounts.services import token_issue
from csn.realtime.models import LiveEvent
from csn.realtime.publish import publish, publish_user_event
from streaming.tests.live import Client, db
from testing.factories import LiveGameFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def run(coro_fn):
    async_to_sync(coro_fn)()


def _publish(topic, name, data):
    with transaction.atomic():
        publish(topic=topic, name=name, data=data)


def test_ping_gets_pong_with_ref():
    async def scenario():
        client = await Client().connect()
        assert await client.request({"type": "ping", "ref": "r1"}) == {"type": "pong", "status": "ok", "ref": "r1"}
        await client.close()

    run(scenario)


@pytest.mark.parametrize(
    "raw, code",
    [
        ("{not json", "malformed_json"),
        ("[" * 2000 + "]" * 2000, "malformed_json"),
        ("[1, 2]", "invalid_message"),
        ('{"no": "type"}', "invalid_message"),
        ('{"type": "dance"}', "unknown_type"),
        ('{"type": "subscribe", "topic": "stock:1"}', "unknown_topic"),
        ('{"type": "subscribe", "topic": "game:abc"}', "unknown_topic"),
        ('{"type": "subscribe", "topic": "game:999999"}', "not_found"),
        ('{"type": "subscribe", "topic": "user"}', "auth_required"),
        ('{"type": "subscribe", "topic": "game:1", "since": -4}', "invalid_message"),
        ('{"type": "unsubscribe", "topic": "game:1"}', "not_subscribed"),
        ('{"type": "chat.send", "game": 1, "text": "hi"}', "auth_required"),
        ('{"type": "heartbeat", "game": 1}', "auth_required"),
        ('{"type": "auth", "token": "nope"}', "invalid_token"),
        ('{"type": "ping", "ref": {"a": 1}}', "invalid_message"),
    ],
)
def test_bad_messages_get_an_error_with_a_code_and_the_socket_stays(raw, code):
    async def scenario():
        client = await Client().connect()
        reply = await client.request(raw)
        assert reply["type"] == "error"
        assert reply["code"] == code
        assert reply["message"]
        assert await client.request({"type": "ping"}) == {"type": "pong", "status": "ok", "ref": None}
        await client.close()

    run(scenario)


def test_oversized_message_is_refused(settings):
    settings.LIVE_MAX_MESSAGE_BYTES = 100

    async def scenario():
        client = await Client().connect()
        reply = await client.request({"type": "ping", "ref": "x" * 200})
        assert reply["code"] == "message_too_large"
        await client.close()

    run(scenario)


def test_subscriptions_per_connection_are_limited(settings):
    settings.LIVE_MAX_SUBSCRIPTIONS = 2
    games = [LiveGameFactory() for _ in range(3)]

    async def scenario():
        client = await Client().connect()
        for game in games[:2]:
            assert (await client.request({"type": "subscribe", "topic": f"game:{game.pk}"}))["type"] == "snapshot"
        reply = await client.request({"type": "subscribe", "topic": f"game:{games[2].pk}", "ref": 3})
        assert (reply["type"], reply["code"], reply["ref"]) == ("error", "too_many_subscriptions", 3)
        await client.close()

    run(scenario)


def test_snapshot_then_events_with_growing_seq():
    game = LiveGameFactory(home_score=3)

    async def scenario():
        client = await Client().connect()
        snapshot = await client.request({"type": "subscribe", "topic": f"game:{game.pk}", "ref": "s"})
        assert snapshot["type"] == "snapshot" and snapshot["ref"] == "s"
        assert snapshot["topic"] == f"game:{game.pk}"
        assert snapshot["data"]["game"]["home_score"] == 3
        first = snapshot["seq"]
        await db(_publish)(f"game:{game.pk}", "note", {"n": 1})
        await db(_publish)(f"game:{game.pk}", "note", {"n": 2})
        events = await client.recv_events(2)
        assert [(e["type"], e["seq"], e["name"], e["data"]) for e in events] == [
            ("event", first + 1, "note", {"n": 1}),
            ("event", first + 2, "note", {"n": 2}),
        ]
        await client.close()

    run(scenario)


def test_events_are_stored_with_a_seq_and_a_rollback_publishes_nothing():
    game = LiveGameFactory()
    with transaction.atomic():
        publish(topic=f"game:{game.pk}", name="a", data={})
    with pytest.raises(RuntimeError), transaction.atomic():
        publish(topic=f"game:{game.pk}", name="rolled-back", data={})
        raise RuntimeError
    with transaction.atomic():
        publish(topic=f"game:{game.pk}", name="b", data={})
    rows = list(LiveEvent.objects.filter(topic=f"game:{game.pk}").order_by("seq").values_list("seq", "name"))
    assert rows == [(1, "a"), (2, "b")]


def test_concurrent_publishers_get_distinct_consecutive_seqs():
    """Writers on one topic from several threads: every seq once, no gaps."""
    import threading

    from django.db import connection

    game = LiveGameFactory()
    if settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
        workers, per_worker = 2, 5
    else:
        workers, per_worker = 4, 10

    def work():
        try:
            for _ in range(per_worker):
                with transaction.atomic():
                    publish(topic=f"game:{game.pk}", name="n", data={})
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seqs = sorted(LiveEvent.objects.filter(topic=f"game:{game.pk}").values_list("seq", flat=True))
    assert seqs == list(range(1, workers * per_worker + 1))


def test_user_topic_needs_a_token_and_carries_only_that_users_events():
    alice, bob = UserFactory(), UserFactory()
    alice_token = token_issue(user=alice).key

    async def scenario():
        client = await Client().connect()
        ack = await client.request({"type": "auth", "token": alice_token, "ref": 1})
        assert ack == {"type": "ack", "status": "ok", "ref": 1, "user": {"id": alice.pk, "name": alice.display_name}}
        snapshot = await client.request({"type": "subscribe", "topic": "user"})
        assert (snapshot["type"], snapshot["topic"], snapshot["seq"]) == ("snapshot", "user", 0)

        def both():
            with transaction.atomic():
                publish_user_event(user_id=bob.pk, name="secret", data={"for": "bob"})
                publish_user_event(user_id=alice.pk, name="progress", data={"for": "alice"})

        await db(both)()
        (event,) = await client.recv_events(1)
        assert (event["topic"], event["seq"], event["name"], event["data"]) == ("user", 1, "progress", {"for": "alice"})
        assert await client.nothing()
        await client.close()

    run(scenario)


def test_resume_with_since_replays_exactly_what_was_missed():
    game = LiveGameFactory()
    topic = f"chat:{game.pk}"

    async def scenario():
        client = await Client().connect()
        snapshot = await client.request({"type": "subscribe", "topic": topic})
        last = snapshot["seq"]
        await client.close()
        for n in range(3):
            await db(_publish)(topic, "note", {"n": n})
        again = await Client().connect()
        await again.send({"type": "subscribe", "topic": topic, "since": last, "ref": "resume"})
        events = [await again.recv() for _ in range(3)]
        assert [(e["seq"], e["data"]["n"]) for e in events] == [(last + 1, 0), (last + 2, 1), (last + 3, 2)]
        assert await again.recv() == {
            "type": "ack",
            "status": "ok",
            "ref": "resume",
            "topic": topic,
            "seq": last + 3,
            "replayed": 3,
        }
        await db(_publish)(topic, "note", {"n": 3})
        (live,) = await again.recv_events(1)
        assert live["seq"] == last + 4
        await again.close()

    run(scenario)


def test_since_too_old_gets_a_fresh_snapshot_flagged_reset(settings):
    settings.LIVE_REPLAY_LIMIT = 2
    game = LiveGameFactory()
    topic = f"game:{game.pk}"
    for n in range(5):
        _publish(topic, "note", {"n": n})

    async def scenario():
        client = await Client().connect()
        reply = await client.request({"type": "subscribe", "topic": topic, "since": 1})
        assert (reply["type"], reply["seq"], reply["reset"]) == ("snapshot", 5, True)
        await client.close()

    run(scenario)


def test_a_flooding_socket_is_closed_and_others_do_not_notice(settings):
    settings.LIVE_FLOOD_MESSAGES_PER_SECOND = 50
    game = LiveGameFactory()

    async def scenario():
        calm = await Client().connect()
        await calm.request({"type": "subscribe", "topic": f"game:{game.pk}"})
        flood = await Client().connect()
        for _ in range(200):
            await flood.send({"type": "ping"})
        outputs = []
        while True:
            output = await flood.communicator.receive_output(3)
            outputs.append(output)
            if output["type"] == "websocket.close":
                break
        await flood.communicator.disconnect()
        assert outputs[-1]["code"] == 4029
        assert any('"code":"flood"' in o.get("text", "") for o in outputs)
        assert await calm.request({"type": "ping", "ref": "ok"}) == {"type": "pong", "status": "ok", "ref": "ok"}
        await db(_publish)(f"game:{game.pk}", "note", {})
        assert len(await calm.recv_events(1)) == 1
        await calm.close()

    run(scenario)


def test_a_slow_reader_is_cut_off_and_the_topic_keeps_flowing(settings, monkeypatch):
    """A socket whose queue passes the bound is closed; a healthy one gets every event."""
    from streaming.live.consumers import GatewayConsumer

    settings.LIVE_SEND_QUEUE_MAX = 3
    original_send_frame = GatewayConsumer.send_frame
    stuck = asyncio.Event()

    async def send_frame(self, message):
        if self.scope.get("query_string") == b"slow":
            await stuck.wait()  # this reader never reads again
        return await original_send_frame(self, message)

    monkeypatch.setattr(GatewayConsumer, "send_frame", send_frame)
    game = LiveGameFactory()
    topic = f"game:{game.pk}"
    cutoffs_before = _cutoffs()

    async def scenario():
        slow = await Client("/ws/?slow").connect()
        healthy = await Client().connect()
        for client in (slow, healthy):
            await client.request({"type": "subscribe", "topic": topic})
        for n in range(8):
            await db(_publish)(topic, "note", {"n": n})
            await asyncio.sleep(0.01)
        received = await healthy.recv_events(8)
        assert [e["data"]["n"] for e in received] == list(range(8))
        close = await slow.communicator.receive_output(3)
        assert (close["type"], close["code"]) == ("websocket.close", 4008)
        stuck.set()
        await slow.communicator.disconnect()
        await healthy.close()

    run(scenario)
    assert _cutoffs() - cutoffs_before == 1  # csn_live_slow_reader_cutoffs_total


def _cutoffs() -> float:
    from prometheus_client import REGISTRY

    return REGISTRY.get_sample_value("csn_live_slow_reader_cutoffs_total") or 0


def test_group_expiry_outlives_the_socket_timeout():
    expiry = settings.CHANNEL_LAYERS["default"].get("CONFIG", {}).get("group_expiry", 86400)
    assert expiry >= settings.WEBSOCKET_TIMEOUT
    serve = (Path(settings.BASE_DIR) / "bin" / "serve").read_text()
    assert int(re.search(r"--websocket_timeout (\d+)", serve).group(1)) == settings.WEBSOCKET_TIMEOUT


def test_a_frame_goes_out_in_the_pass_itself_without_a_task_per_socket(settings):
    """The hub's pass sends to an idle socket in one step: no writer task, nothing queued."""
    from csn.realtime.hub import Item
    from streaming.live.consumers import GatewayConsumer, Subscription

    sent = []

    async def base_send(message):
        sent.append(message)

    async def scenario():
        consumer = GatewayConsumer()
        consumer.base_send = base_send
        consumer.subscriptions, consumer.queue, consumer.sending, consumer.gone = {}, deque(), None, False
        consumer.subscriptions["chat:1"] = Subscription()
        consumer.subscriptions["chat:1"].holding = None
        tasks_before = len(asyncio.all_tasks())
        consumer.hub_push(Item("chat:1", [(1, '{"seq":1}')]))
        assert [m["text"] for m in sent] == ['{"seq":1}']  # before any loop turn
        assert consumer.sending is None and not consumer.queue
        assert len(asyncio.all_tasks()) == tasks_before

    asyncio.run(scenario())


def _capped_socket(sent: list, topics=("chat:1",)):
    """A gateway consumer whose send refuses what daphne refuses: autobahn raises PayloadExceededError on
    an outgoing message past bin/serve's --websocket-max-message-size (the frame never leaves)."""
    from autobahn.exception import PayloadExceededError

    from streaming.live.consumers import GatewayConsumer, Subscription

    serve = (Path(settings.BASE_DIR) / "bin" / "serve").read_text()
    cap = int(re.search(r"--websocket-max-message-size (\d+)", serve).group(1))

    async def base_send(message):
        if len(message["text"].encode()) > cap:
            raise PayloadExceededError(f"tried to send WebSocket message exceeding payload limit of {cap} octets")
        sent.append(message["text"])

    consumer = GatewayConsumer()
    consumer.base_send = base_send
    consumer.subscriptions, consumer.queue, consumer.sending, consumer.gone = {}, deque(), None, False
    consumer.user, consumer.sees_all_chat, consumer.version = None, False, 2
    for topic in topics:
        consumer.subscriptions[topic] = Subscription()
        consumer.subscriptions[topic].holding = None
    return consumer, cap


def _chat_events(topic, first, count):
    from csn.realtime.frames import encode_event

    data = {"user": {"id": 1, "name": "Fan"}, "text": "flood " * 30}
    return [
        (seq, encode_event(topic=topic, seq=seq, name="chat.message", data=data)) for seq in range(first, first + count)
    ]


def _seqs(frames):
    import json

    out = []
    for text in frames:
        frame = json.loads(text)
        out += [(event["topic"], event["seq"]) for event in (frame["events"] if frame["type"] == "batch" else [frame])]
    return out


def test_a_pass_past_the_servers_message_cap_reaches_the_socket_whole():
    """A flooded room's pass (500 chat messages, about 150 KB) goes out as several frames under the cap the
    server enforces on what it sends; as one frame it was refused and every event of it lost (issue #16)."""
    from csn.realtime.hub import Item

    sent = []

    async def scenario():
        consumer, cap = _capped_socket(sent)
        events = _chat_events("chat:1", 1, 500)
        assert sum(len(text) for _, text in events) > 2 * cap
        consumer.hub_push(Item("chat:1", events))
        return cap

    cap = asyncio.run(scenario())
    assert len(sent) >= 3 and max(len(text) for text in sent) <= cap
    assert _seqs(sent) == [("chat:1", seq) for seq in range(1, 501)]


def test_a_backlog_past_the_servers_message_cap_reaches_the_socket_whole():
    """A send that suspends mid-item queues the item's other frames; the backlog that piles up behind it
    goes out in frames under the cap, scores first, each topic in seq order."""
    from csn.realtime import load
    from csn.realtime.hub import Item

    sent = []

    async def scenario():
        consumer, cap = _capped_socket(sent, topics=("chat:1", "game:1"))
        release = asyncio.Event()
        capped_send = consumer.base_send

        async def base_send(message):
            if not sent:
                await release.wait()  # the first frame's send pushes back
            await capped_send(message)

        consumer.base_send = base_send
        first = Item("chat:1", _chat_events("chat:1", 1, 300))
        assert len(first.parts) > 1
        consumer.hub_push(first)
        assert consumer.sending is not None and consumer.queue  # the item's other frames wait
        for item in (
            Item("chat:1", _chat_events("chat:1", 301, 300)),
            Item("game:1", [(7, '{"type":"event","topic":"game:1","seq":7}')]),
        ):
            item.bulk = load.bulk(item.events)
            consumer.hub_push(item)
        writer = consumer.sending
        release.set()
        await writer
        assert consumer.sending is None and not consumer.queue
        return cap

    cap = asyncio.run(scenario())
    assert max(len(text) for text in sent) <= cap
    received = _seqs(sent)
    assert [seq for topic, seq in received if topic == "chat:1"] == list(range(1, 601))
    assert [seq for topic, seq in received if topic == "game:1"] == [7]
    assert received.index(("game:1", 7)) < received.index(("chat:1", 301))  # the score before queued chat
