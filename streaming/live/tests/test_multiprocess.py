"""Several daphne processes on one Redis serve one game together; resume covers what was missed.

With REDIS_URL unset (the embedded default has no cross-process transport) both roles are played by
one process: the resume half still holds."""

import asyncio
import json

import pytest
from django.conf import settings
from rest_framework.authtoken.models import Token
from websockets.asyncio.client import connect

from streaming.tests.live import ws_events, ws_request
from streaming.tests.servers import daphne_on_test_db
from testing.factories import LiveGameFactory, UserFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def test_chat_crosses_processes_and_resume_on_the_other_gets_exactly_what_was_missed():
    game = LiveGameFactory()
    token = Token.objects.create(user=UserFactory()).key
    topic = f"chat:{game.pk}"
    processes = 2 if settings.REDIS_URL else 1

    with daphne_on_test_db(processes) as bases:
        url_a = bases[0].replace("http", "ws") + "/ws/"
        url_b = bases[-1].replace("http", "ws") + "/ws/"

        async def scenario():
            async with connect(url_b) as sender:
                assert (await ws_request(sender, {"type": "auth", "token": token}))["type"] == "ack"

                async def post(text, ref):
                    ack = await ws_request(sender, {"type": "chat.send", "game": game.pk, "text": text, "ref": ref})
                    assert ack["type"] == "ack", ack

                async with connect(url_a) as reader:
                    snapshot = await ws_request(reader, {"type": "subscribe", "topic": topic})
                    await post("hello from the other process", "1")
                    (event,) = await ws_events(reader)
                    assert (event["seq"], event["data"]["text"]) == (
                        snapshot["seq"] + 1,
                        "hello from the other process",
                    )
                    last_seen = event["seq"]

                for n in range(3):  # the reader is away
                    await post(f"missed {n}", f"m{n}")

                async with connect(url_b) as back:
                    await back.send(json.dumps({"type": "subscribe", "topic": topic, "since": last_seen, "ref": "r"}))
                    replayed = [json.loads(await asyncio.wait_for(back.recv(), 10)) for _ in range(4)]
                    assert [(m["seq"], m["data"]["text"]) for m in replayed[:3]] == [
                        (last_seen + 1, "missed 0"),
                        (last_seen + 2, "missed 1"),
                        (last_seen + 3, "missed 2"),
                    ]
                    assert replayed[3] == {
                        "type": "ack",
                        "ref": "r",
                        "topic": topic,
                        "seq": last_seen + 3,
                        "replayed": 3,
                    }
                    await post("and live again", "2")
                    (event,) = await ws_events(back)
                    assert (event["seq"], event["data"]["text"]) == (last_seen + 4, "and live again")

        asyncio.run(scenario())
