"""Messages to one user's sockets cross processes: two daphne processes on one Redis (Channels' layer),
sockets on both, the change made through the other process (or a third: this test's own)."""

import asyncio
import json
import time
import urllib.error
import urllib.request

import pytest
from django.conf import settings
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from accounts.models import User
from accounts.services import credentials_revoke, password_change, token_issue
from streaming.live.consumers import CLOSE_SIGNED_OUT
from streaming.tests.servers import daphne_on_test_db
from testing.factories import LiveGameFactory, UserFactory, member_of

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.slow,
    pytest.mark.skipif(
        not settings.REDIS_URL, reason="crossing processes needs Redis (the embedded layer is in-process)"
    ),
]

PASSWORD = "correct horse battery staple"


def http(base: str, method: str, path: str, key: str, body: dict | None = None) -> int:
    request = urllib.request.Request(
        base + path,
        method=method,
        data=json.dumps(body or {}).encode(),
        headers={"Authorization": f"Token {key}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


async def request(ws, message: dict) -> dict:
    await ws.send(json.dumps(message))
    return json.loads(await asyncio.wait_for(ws.recv(), 5))


async def socket(url: str, key: str):
    ws = await connect(url)
    assert json.loads(await asyncio.wait_for(ws.recv(), 5))["type"] == "hello"
    assert (await request(ws, {"type": "auth", "token": key}))["type"] == "ack"
    return ws


async def notice(ws, within: float = 1.0) -> dict:
    message = json.loads(await asyncio.wait_for(ws.recv(), within))
    assert message["type"] == "notice", message
    return message


async def closed_signed_out(ws, reason: str, within: float = 1.0) -> None:
    assert (await notice(ws, within)) == {"type": "notice", "name": "signed_out", "data": {"reason": reason}}
    with pytest.raises(ConnectionClosed) as closed:
        await asyncio.wait_for(ws.recv(), within)
    assert closed.value.rcvd.code == CLOSE_SIGNED_OUT


async def pong(ws) -> bool:
    return (await request(ws, {"type": "ping", "ref": "p"}))["type"] == "pong"


def test_mutes_sessions_and_revocations_reach_the_user_sockets_in_the_other_process():
    game, other_game = LiveGameFactory(), LiveGameFactory()
    fan, bystander = UserFactory(password=PASSWORD), UserFactory()
    moderator = member_of("Moderators")
    key, bystander_key, moderator_key = (token_issue(user=u).key for u in (fan, bystander, moderator))

    with daphne_on_test_db(2) as bases:
        one, two = (base.replace("http", "ws") + "/ws/" for base in bases)

        async def scenario():
            tv, phone, other = await socket(one, key), await socket(two, key), await socket(two, bystander_key)

            # A mute made through process one reaches the fan's socket on process two at once.
            path = f"/api/v1/games/{game.pk}/chat/mutes/"
            assert (
                await asyncio.to_thread(http, bases[0], "POST", path, moderator_key, {"user": fan.pk, "minutes": 5})
                == 201
            )
            assert (await notice(phone))["name"] == "chat.muted"
            assert (await notice(tv))["name"] == "chat.muted"

            # The stream limit: the phone (process two) takes the TV's place (process one).
            first = (await request(tv, {"type": "heartbeat", "game": game.pk}))["session"]
            assert (await request(phone, {"type": "heartbeat", "game": other_game.pk}))["code"] == "stream_limit"
            assert (await request(phone, {"type": "heartbeat", "game": other_game.pk, "replace": first}))[
                "type"
            ] == "ack"
            assert (await notice(tv))["data"] == {
                "session": first,
                "game": game.pk,
                "content": None,
                "reason": "replaced",
            }
            assert (await notice(phone))["name"] == "session.ended"

            # Signing out through process two closes the token's sockets on both processes within 1 s.
            started = time.monotonic()
            assert await asyncio.to_thread(http, bases[1], "POST", "/api/v1/auth/logout/", key) == 204
            await closed_signed_out(tv, "signed_out")
            await closed_signed_out(phone, "signed_out")
            assert time.monotonic() - started < 1.5
            assert await pong(other)  # another user's socket in the same process is untouched

            # A password change (made in this test's process: the servers hash passwords another way)
            # closes the new token's socket on process two.
            new_key = await asyncio.to_thread(lambda: token_issue(user=fan).key)
            phone = await socket(two, new_key)
            await asyncio.to_thread(
                password_change, user=fan, current_password=PASSWORD, new_password="a wholly new horse battery"
            )
            await closed_signed_out(phone, "password_changed")

            # Deactivation by staff, in this process too (admin calls the same service).
            other_user = await asyncio.to_thread(User.objects.get, pk=bystander.pk)

            def deactivate():
                other_user.is_active = False
                other_user.save(update_fields=["is_active"])
                credentials_revoke(user=other_user, reason="deactivated")

            await asyncio.to_thread(deactivate)
            await closed_signed_out(other, "deactivated")

        asyncio.run(scenario())
