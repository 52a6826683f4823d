"""Several daphne processes on one Redis serve one game together; resume covers what was missed.

With REDIS_URL unset (the embedded default has no cross-process transport) both roles are played by
one process: the resume half still holds."""

import asyncio
import contextlib
import json

import pytest
from django.conf import settings
from websockets.asyncio.client import connect

from accounts.services import token_issue
from streaming.tests.servers import daphne_on_test_db
from testing.factories import LiveGameFactory, UserFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


@contextlib.asynccontextmanager
async def _socket(url: str):
    """A socket past the server's `hello`."""
    async with connect(url) as ws:
        assert json.loads(await asyncio.wait_for(ws.recv(), 10))["type"] == "hello"
        yield ws


async def _recv(ws, timeout=10) -> list[dict]:
    message = json.loads(await asyncio.wait_for(ws.recv(), timeout))
    return message["events"] if message["type"] == "batch" else [message]


async def _request(ws, message: dict) -> dict:
    await ws.send(json.dumps(message))
    return json.loads(await asyncio.wait_for(ws.recv(), 10))


def test_chat_crosses_processes_and_resume_on_the_other_gets_exactly_what_was_missed():
    game = LiveGameFactory()
    token = token_issue(user=UserFactory()).key
    topic = f"chat:{game.pk}"
    processes = 2 if settings.REDIS_URL else 1

    with daphne_on_test_db(processes) as bases:
        url_a = bases[0].replace("http", "ws") + "/ws/"
        url_b = bases[-1].replace("http", "ws") + "/ws/"

        async def scenario():
            async with _socket(url_b) as sender:
                assert (await _request(sender, {"type": "auth", "token": token}))["type"] == "ack"

                async def post(text, ref):
                    ack = await _request(sender, {"type": "chat.send", "game": game.pk, "text": text, "ref": ref})
                    assert ack["type"] == "ack", ack

                async with _socket(url_a) as reader:
                    snapshot = await _request(reader, {"type": "subscribe", "topic": topic})
                    await post("hello from the other process", "1")
                    (event,) = await _recv(reader)
                    assert (event["seq"], event["data"]["text"]) == (
                        snapshot["seq"] + 1,
                        "hello from the other process",
                    )
                    last_seen = event["seq"]

                for n in range(3):  # the reader is away
                    await post(f"missed {n}", f"m{n}")

                async with _socket(url_b) as back:
                    await back.send(json.dumps({"type": "subscribe", "topic": topic, "since": last_seen, "ref": "r"}))
                    replayed = [json.loads(await asyncio.wait_for(back.recv(), 10)) for _ in range(4)]
                    assert [(m["seq"], m["data"]["text"]) for m in replayed[:3]] == [
                        (last_seen + 1, "missed 0"),
                        (last_seen + 2, "missed 1"),
                        (last_seen + 3, "missed 2"),
                    ]
                    assert replayed[3] == {
                        "type": "ack",
                        "status": "ok",
                        "ref": "r",
                        "topic": topic,
                        "seq": last_seen + 3,
                        "replayed": 3,
                    }
                    await post("and live again", "2")
                    (event,) = await _recv(back)
                    assert (event["seq"], event["data"]["text"]) == (last_seen + 4, "and live again")

        asyncio.run(scenario())


def test_aligned_and_unaligned_sockets_mixed_across_processes_each_get_events_at_their_horizon():
    """Real clocks: a socket 2 s behind on one process, 1 s behind on the other, one at the live edge."""
    import time
    from datetime import UTC, datetime

    from django.utils.dateparse import parse_datetime

    from csn.representation import datetime_text

    game = LiveGameFactory()
    token = token_issue(user=UserFactory()).key
    topic = f"chat:{game.pk}"
    processes = 2 if settings.REDIS_URL else 1

    def horizon(delay: float) -> str:
        return datetime_text(datetime.fromtimestamp(time.time() - delay, UTC))

    with daphne_on_test_db(processes) as bases:
        url_a = bases[0].replace("http", "ws") + "/ws/"
        url_b = bases[-1].replace("http", "ws") + "/ws/"

        async def arrival(ws) -> tuple[float, dict]:
            (event,) = await _recv(ws)
            return time.time(), event

        async def scenario():
            async with _socket(url_b) as sender, _socket(url_a) as live, _socket(url_a) as two, _socket(url_b) as one:
                assert (await _request(sender, {"type": "auth", "token": token}))["type"] == "ack"
                await _request(live, {"type": "subscribe", "topic": topic})
                for ws, delay in ((two, 2.0), (one, 1.0)):
                    reply = await _request(
                        ws, {"type": "subscribe", "topic": topic, "align": True, "horizon": horizon(delay)}
                    )
                    assert reply["type"] == "snapshot", reply
                ack = await _request(sender, {"type": "chat.send", "game": game.pk, "text": "now", "ref": "1"})
                posted = parse_datetime(ack["message"]["created_at"]).timestamp()
                (at_live, first), (at_one, second), (at_two, third) = await asyncio.gather(
                    arrival(live), arrival(one), arrival(two)
                )
                assert first["seq"] == second["seq"] == third["seq"]
                assert at_live < posted + 1.0
                assert posted + 1.0 <= at_one < posted + 1.9, at_one - posted
                assert posted + 2.0 <= at_two < posted + 2.9, at_two - posted

        asyncio.run(scenario())
