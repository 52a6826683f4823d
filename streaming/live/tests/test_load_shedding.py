"""Under load (csn.realtime.load) the gateway gives moderators and a shed message's author everything;
reaction counts come less often, summed, while scores come whole (frames intercepted)."""

import time

import pytest
from asgiref.sync import async_to_sync

from csn.realtime import load
from csn.realtime.frames import encode_event
from csn.realtime.hub import Item
from streaming.live.consumers import GatewayConsumer
from streaming.live.models import ReactionSecond
from streaming.live.services import engagement, scores
from streaming.live.tests.factories import scorekeeper
from streaming.live.topics import game_topic
from streaming.tests.live import Client, db
from testing.factories import LiveGameFactory

CHAT = "chat:7"


def _event(topic, seq, name, data=None):
    return seq, encode_event(topic=topic, seq=seq, name=name, data=data or {})


def test_moderators_and_authors_get_the_whole_item_everyone_else_the_shed_one():
    item = Item(CHAT, [_event(CHAT, 11, "chat.message", {"user": {"id": 5}})])
    item.shed, item.shed_authors = Item(CHAT, [_event(CHAT, 11, "skipped")]), {5}

    def consumer(user_id, moderator=False):
        socket = GatewayConsumer.__new__(GatewayConsumer)
        socket.user = type("U", (), {"pk": user_id})() if user_id else None
        socket.sees_all_chat = moderator
        return socket

    assert consumer(5)._sees_all(item)  # the author
    assert consumer(6, moderator=True)._sees_all(item)
    assert not consumer(6)._sees_all(item)
    assert not consumer(None)._sees_all(item)


def _reactions_second(game_id: int, second: int, counts: dict) -> None:
    """One game-second's counts frame, as the reactions ticker publishes it (through Redis when set)."""
    engagement.reactions_flush(second=second, counts={game_id: counts})
    engagement.reactions_second_publish(game_id=game_id, second=second, local=counts)


@pytest.mark.django_db(transaction=True)
def test_under_load_reaction_counts_come_summed_and_less_often_and_scores_whole():
    game, keeper = LiveGameFactory(), scorekeeper()
    topic = game_topic(game.pk)
    base = int(time.time()) - 120  # seconds of their own: no other test's Redis sums

    async def scenario():
        watcher = await Client().connect()
        await watcher.request({"type": "subscribe", "topic": f"game:{game.pk}"})
        load.state.level = 1
        load.state.summed_sent[topic] = time.monotonic()  # a counts frame just passed: the 2 s window runs
        try:
            await db(_reactions_second)(game.pk, base + 1, {"🔥": 3})
            await db(scores.game_event_record)(actor=keeper, game_id=game.pk, home_score=1)
            await db(_reactions_second)(game.pk, base + 2, {"🔥": 1, "👏": 2})
            held = await watcher.recv_events(3)
            assert [event["name"] for event in held] == ["skipped", "game.event", "skipped"]
            assert [event["data"].get("name") for event in held if event["name"] == "skipped"] == ["game.reactions"] * 2
            assert held[1]["data"]["game"]["home_score"] == 1  # the score came whole, in order

            load.state.summed_sent[topic] -= 2  # the window is over: the next frame carries the held counts
            await db(_reactions_second)(game.pk, base + 3, {"😂": 1})
            (summed,) = await watcher.recv_events(1)
            assert summed["name"] == "game.reactions" and summed["seq"] == held[-1]["seq"] + 1
            assert summed["data"]["counts"] == {"🔥": 4, "👏": 2, "😂": 1} and summed["data"]["total"] == 7
            assert summed["data"]["since"] < summed["data"]["second"]

            # A resubscription with `since` replays the real per-second frames, never shed.
            await watcher.send({"type": "subscribe", "topic": f"game:{game.pk}", "since": held[0]["seq"] - 1})
            replayed = await watcher.recv_events(4)
            assert [event["name"] for event in replayed] == ["game.reactions", "game.event"] + ["game.reactions"] * 2
            assert [event["data"]["total"] for event in replayed if event["name"] == "game.reactions"] == [3, 3, 1]
        finally:
            load.state.level = 0
            load.state.summed_sent.clear()
            load.state.held.clear()
        await watcher.close()

    async_to_sync(scenario)()
    assert ReactionSecond.objects.filter(game=game).count() == 3  # every second is kept


def _socket(version: int, sent: list):
    """A gateway consumer as the hub sees it, on protocol `version`, that records what it sends."""
    from collections import deque

    from streaming.live.consumers import Subscription

    async def base_send(message):
        sent.append(message["text"])

    socket = GatewayConsumer()
    socket.base_send = base_send
    socket.subscriptions, socket.queue, socket.sending, socket.gone = {}, deque(), None, False
    socket.user, socket.sees_all_chat, socket.version = None, False, version
    for topic in (CHAT, "game:7"):
        socket.subscriptions[topic] = Subscription()
        socket.subscriptions[topic].holding = None
    return socket


def test_a_flooded_room_costs_a_protocol_two_socket_one_skipped_note_per_pass(settings, monkeypatch):
    """At level 3 a pass of 40 chat messages reaches a protocol 1 socket as 36 notes and 4 messages, and a
    protocol 2 socket as one note (count 36) and the same 4 messages: the same seqs, a fraction of the
    bytes."""
    import asyncio
    import json

    from csn.realtime.hub import Hub

    settings.REDIS_URL = ""
    settings.LIVE_SHED_SAMPLE_ROOM, settings.LIVE_SHED_SAMPLE_KEEP_ONE_IN = 2, 10
    monkeypatch.setattr(load, "state", load.State())
    v1, v2 = [], []

    async def scenario():
        hub = Hub()
        hub.redis_url = ""
        await hub.join(CHAT, _socket(1, v1))
        await hub.join(CHAT, _socket(2, v2))
        load.state.level = 3
        for seq in range(1, 41):
            hub.deliver(CHAT, seq, encode_event(topic=CHAT, seq=seq, name="chat.message", data={"text": "x" * 80}))
        await asyncio.sleep(0)

    asyncio.run(scenario())
    (frame1,), (frame2,) = v1, v2  # one frame each for the pass
    events1, events2 = json.loads(frame1)["events"], json.loads(frame2)["events"]
    assert [e["name"] for e in events1] == ["skipped"] * 36 + ["chat.message"] * 4
    assert [(e["seq"], e["name"], e["data"].get("count")) for e in events2] == [(36, "skipped", 36)] + [
        (seq, "chat.message", None) for seq in range(37, 41)
    ]
    # What the notes stand for is the same on both sockets: seqs 1..36, then the kept 37..40.
    covered = [s for e in events2 for s in range(e["seq"] - e["data"].get("count", 1) + 1, e["seq"] + 1)]
    assert covered == [e["seq"] for e in events1] == list(range(1, 41))
    assert len(frame2) < len(frame1) / 2


def test_under_shedding_a_socket_backlog_sends_scores_before_chat(monkeypatch):
    """A send that suspends queues what follows; when it finishes, the backlog goes out with the game
    topic's events first, each topic's in seq order, whatever order they were queued in."""
    import asyncio
    import json

    from csn.realtime.hub import Item

    sent = []
    release = None

    async def scenario():
        nonlocal release
        release = asyncio.Event()
        socket = _socket(2, sent)
        original = socket.base_send

        async def base_send(message):
            if not sent:
                await release.wait()  # the first frame's send pushes back
            await original(message)

        socket.base_send = base_send

        def chat(seq):
            item = Item(CHAT, [_event(CHAT, seq, "chat.message")])
            item.bulk = load.bulk(item.events)
            return item

        def score(seq):
            item = Item("game:7", [_event("game:7", seq, "game.event")])
            item.bulk = load.bulk(item.events)
            return item

        socket.hub_push(chat(1))  # suspends
        assert socket.sending is not None
        for item in (chat(2), chat(3), score(10), chat(4), score(11)):
            socket.hub_push(item)
        writer = socket.sending
        release.set()
        await writer
        assert socket.sending is None and not socket.queue

    asyncio.run(scenario())
    assert len(sent) == 2
    backlog = [(e["topic"], e["seq"]) for e in json.loads(sent[1])["events"]]
    assert backlog == [("game:7", 10), ("game:7", 11), (CHAT, 2), (CHAT, 3), (CHAT, 4)]
