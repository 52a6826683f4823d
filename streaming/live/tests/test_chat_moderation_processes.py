"""A held message across two daphne processes on one Redis: the author on one, a viewer and a
moderator on the other; the viewer gets it only once a moderator approves it (over HTTP)."""

import asyncio
import json
import urllib.request

import pytest
from django.conf import settings
from rest_framework.authtoken.models import Token
from websockets.asyncio.client import connect

from streaming.live.models import BannedTerm
from streaming.live.services import moderation
from streaming.live.tests.factories import moderator
from streaming.tests.servers import daphne_on_test_db
from testing.factories import LiveGameFactory, UserFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


async def _recv(ws, timeout=10) -> list[dict]:
    message = json.loads(await asyncio.wait_for(ws.recv(), timeout))
    return message["events"] if message["type"] == "batch" else [message]


async def _request(ws, message: dict) -> dict:
    await ws.send(json.dumps(message))
    return json.loads(await asyncio.wait_for(ws.recv(), 10))


async def _nothing(ws, timeout=1.0) -> bool:
    try:
        await asyncio.wait_for(ws.recv(), timeout)
    except TimeoutError:
        return True
    return False


def _approve(base: str, token: str, message_id: int) -> int:
    request = urllib.request.Request(
        f"{base}/api/v1/chat/messages/{message_id}/review/",
        data=json.dumps({"decision": "approve"}).encode(),
        headers={"Authorization": f"Token {token}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status


def test_a_held_message_crosses_processes_to_moderators_only_until_approved():
    game, mod = LiveGameFactory(), moderator()
    moderation.banned_term_save(actor=mod, term=BannedTerm(term="ref", action=BannedTerm.Action.HOLD))
    author_token = Token.objects.create(user=UserFactory()).key
    mod_token = Token.objects.create(user=mod).key
    processes = 2 if settings.REDIS_URL else 1

    with daphne_on_test_db(processes) as bases:
        url_a = bases[0].replace("http", "ws") + "/ws/"
        url_b = bases[-1].replace("http", "ws") + "/ws/"

        async def scenario():
            async with connect(url_a) as viewer, connect(url_a) as moderating, connect(url_b) as author:
                await _request(viewer, {"type": "subscribe", "topic": f"chat:{game.pk}"})
                assert (await _request(moderating, {"type": "auth", "token": mod_token}))["type"] == "ack"
                queue = await _request(moderating, {"type": "subscribe", "topic": f"mod:{game.pk}"})
                assert queue["type"] == "snapshot"
                assert (await _request(author, {"type": "auth", "token": author_token}))["type"] == "ack"
                ack = await _request(author, {"type": "chat.send", "game": game.pk, "text": "that ref!", "ref": "1"})
                assert ack["message"]["status"] == "pending"
                (held,) = await _recv(moderating)
                assert (held["name"], held["data"]["id"]) == ("chat.held", ack["message"]["id"])
                assert await _nothing(viewer)
                status = await asyncio.to_thread(_approve, bases[-1], mod_token, ack["message"]["id"])
                assert status == 200
                (event,) = await _recv(viewer)
                assert (event["name"], event["data"]["text"], event["data"]["status"]) == (
                    "chat.message",
                    "that ref!",
                    "published",
                )

        asyncio.run(scenario())
