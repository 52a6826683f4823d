"""A held message across two daphne processes on one Redis: the author on one, a viewer and a
moderator on the other; the viewer gets it only once a moderator approves it (over HTTP)."""

import asyncio
import json
import urllib.request

import pytest
from django.conf import settings
from websockets.asyncio.client import connect

from accounts.services import token_issue
from streaming.live.models import BannedTerm
from streaming.live.services import moderation
from streaming.live.tests.factories import moderator
from streaming.tests.live import second_start, ws_hello, ws_named, ws_request
from streaming.tests.servers import daphne_on_test_db
from testing.factories import LiveGameFactory, UserFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


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
    author_token = token_issue(user=UserFactory()).key
    mod_token = token_issue(user=mod).key
    processes = 2 if settings.REDIS_URL else 1

    with daphne_on_test_db(processes) as bases:
        url_a = bases[0].replace("http", "ws") + "/ws/"
        url_b = bases[-1].replace("http", "ws") + "/ws/"

        async def scenario():
            async with connect(url_a) as viewer, connect(url_a) as moderating, connect(url_b) as author:
                for ws in (viewer, moderating, author):
                    await ws_hello(ws)
                await ws_request(viewer, {"type": "subscribe", "topic": f"chat:{game.pk}"})
                assert (await ws_request(moderating, {"type": "auth", "token": mod_token}))["type"] == "ack"
                queue = await ws_request(moderating, {"type": "subscribe", "topic": f"mod:{game.pk}"})
                assert queue["type"] == "snapshot"
                assert (await ws_request(author, {"type": "auth", "token": author_token}))["type"] == "ack"
                ack = await ws_request(author, {"type": "chat.send", "game": game.pk, "text": "that ref!", "ref": "1"})
                assert ack["message"]["status"] == "pending"
                held = await ws_named(moderating, "chat.held")
                assert (held["name"], held["data"]["id"]) == ("chat.held", ack["message"]["id"])
                assert await _nothing(viewer)
                status = await asyncio.to_thread(_approve, bases[-1], mod_token, ack["message"]["id"])
                assert status == 200
                event = await ws_named(viewer, "chat.message")
                assert (event["name"], event["data"]["text"], event["data"]["status"]) == (
                    "chat.message",
                    "that ref!",
                    "published",
                )

        asyncio.run(scenario())


def test_reactions_on_two_processes_make_one_counts_frame_with_both_counted():
    game = LiveGameFactory()
    tokens = [token_issue(user=UserFactory()).key for _ in range(4)]
    processes = 2 if settings.REDIS_URL else 1

    with daphne_on_test_db(processes) as bases:
        urls = [base.replace("http", "ws") + "/ws/" for base in bases]

        async def scenario():
            sockets = []
            for index, token in enumerate(tokens):
                ws = await ws_hello(await connect(urls[index % len(urls)]).__aenter__())
                assert (await ws_request(ws, {"type": "auth", "token": token}))["type"] == "ack"
                await ws_request(ws, {"type": "subscribe", "topic": f"game:{game.pk}"})
                sockets.append(ws)
            await second_start()  # all in one second: one frame
            for ws in sockets:
                await ws.send(json.dumps({"type": "reaction", "game": game.pk, "emoji": "🔥"}))
            frames = [await ws_named(ws, "game.reactions") for ws in sockets]
            assert {(f["name"], f["seq"], f["data"]["total"]) for f in frames} == {
                ("game.reactions", frames[0]["seq"], 4)
            }
            for ws in sockets:
                assert await _nothing(ws, 1.3)
                await ws.close()

        asyncio.run(scenario())
