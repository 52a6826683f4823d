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
