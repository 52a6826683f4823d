"""The live protocol's contract: `hello`, versions, a status on every answer, retry delays, close codes
(a token's expiry, one device's sign-out, an unknown version, a server stopping)."""

import asyncio
from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import AuthToken
from accounts.services import token_issue
from streaming.live.models import GameChat
from streaming.live.protocol import Close
from streaming.tests.live import Client, db
from testing.factories import LiveGameFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def run(coro_fn):
    async_to_sync(coro_fn)()


async def close_code(client: Client, timeout: float = 3) -> tuple[list[dict], int]:
    """The frames before the close, and the close code. The client then hangs up, as a browser does: a
    consumer left waiting on the channel layer when `async_to_sync` closes the loop hung a run on Redis
    (channels_redis#317, as in test_gateway_origin)."""
    frames = []
    while True:
        output = await client.communicator.receive_output(timeout)
        if output["type"] == "websocket.close":
            await client.communicator.disconnect()
            return frames, output["code"]
        frames.append(output)


def test_hello_comes_first_with_the_version_time_ping_interval_and_limits(settings):
    settings.LIVE_MAX_SUBSCRIPTIONS = 7

    async def scenario():
        for path, version in (("/ws/", 1), ("/ws/?v=1", 1), ("/ws/?v=2", 2)):
            client = await Client(path).connect()
            hello = client.hello
            assert (hello["protocol"], hello["versions"], hello["user"]) == (version, [1, 2], None)
            assert hello["ping_interval"] == 25
            assert hello["limits"]["max_subscriptions"] == 7
            assert hello["server_time"].endswith("Z")
            await client.close()

    run(scenario)


@pytest.mark.parametrize("version", ["3", "0", "abc", "1.0", "99999"])
def test_an_unknown_version_is_refused_with_a_clear_close_code(version, settings):
    # The version refusal needs no channel layer, so these run without Redis.
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

    async def scenario():
        client = Client(f"/ws/?v={version}")
        connected, _ = await client.communicator.connect()
        assert connected
        frames, code = await close_code(client)
        assert code == Close.UNSUPPORTED_VERSION == 4406
        assert '"code":"unsupported_version"' in frames[0]["text"]
        assert '"supported":[1,2]' in frames[0]["text"]

    run(scenario)


def test_every_answer_carries_its_ref_and_a_status():
    game = LiveGameFactory()
    key = token_issue(user=UserFactory()).key

    async def scenario():
        client = await Client().connect()
        answers = [
            await client.request({"type": "ping", "ref": 1}),
            await client.request({"type": "auth", "token": key, "ref": 2}),
            await client.request({"type": "subscribe", "topic": f"game:{game.pk}", "ref": 3}),
            await client.request({"type": "unsubscribe", "topic": f"game:{game.pk}", "ref": 4}),
            await client.request({"type": "heartbeat", "game": game.pk, "ref": 5}),
            await client.request({"type": "unsubscribe", "topic": "chat:1", "ref": 6}),
        ]
        assert [(a["type"], a["ref"], a["status"]) for a in answers] == [
            ("pong", 1, "ok"),
            ("ack", 2, "ok"),
            ("snapshot", 3, "ok"),
            ("ack", 4, "ok"),
            ("ack", 5, "ok"),
            ("error", 6, "error"),
        ]
        await client.close()

    run(scenario)


def test_chat_refusals_say_when_to_try_again(settings):
    settings.LIVE_CHAT_RATE_COUNT, settings.LIVE_CHAT_RATE_WINDOW_SECONDS = 2, 10
    game = LiveGameFactory()
    key = token_issue(user=UserFactory()).key

    async def scenario():
        client = await Client().connect()
        await client.request({"type": "auth", "token": key})
        for n in range(2):
            assert (await client.request({"type": "chat.send", "game": game.pk, "text": f"m{n}"}))["type"] == "ack"
        refused = await client.request({"type": "chat.send", "game": game.pk, "text": "again"})
        assert refused["code"] == "rate_limited"
        assert 9 < refused["retry_after"] <= 10
        await client.close()

    run(scenario)

    settings.LIVE_CHAT_RATE_COUNT = 100
    GameChat.objects.update_or_create(game=game, defaults={"slow_mode_seconds": 30})

    async def slow():
        client = await Client().connect()
        await client.request({"type": "auth", "token": key})
        refused = await client.request({"type": "chat.send", "game": game.pk, "text": "slow"})
        assert refused["code"] == "slow_mode"
        assert 29 < refused["retry_after"] <= 30
        await client.close()

    run(slow)


def test_a_socket_signed_in_with_a_token_closes_when_the_token_expires_unless_refreshed():
    user = UserFactory()
    expiring, refreshed = token_issue(user=user, name="tv"), token_issue(user=user, name="phone")
    soon = timezone.now() + timedelta(seconds=0.5)
    AuthToken.objects.filter(pk__in=[expiring.pk, refreshed.pk]).update(expires_at=soon)

    async def scenario():
        tv, phone = await Client().connect(), await Client().connect()
        await tv.request({"type": "auth", "token": expiring.key})
        await phone.request({"type": "auth", "token": refreshed.key})
        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=f"Bearer {refreshed.key}")
        assert (await db(api.post)("/api/v1/auth/token/refresh/")).status_code == 200

        frames, code = await close_code(tv)
        assert code == Close.SIGNED_OUT
        assert '"reason":"token_expired"' in frames[-1]["text"]
        await asyncio.sleep(0.3)
        assert await phone.request({"type": "ping", "ref": "p"}) == {"type": "pong", "status": "ok", "ref": "p"}
        await phone.close()

    run(scenario)


def test_revoking_one_device_closes_its_sockets_and_no_other():
    user = UserFactory()
    phone, tv = token_issue(user=user, name="phone"), token_issue(user=user, name="tv")

    async def scenario():
        phone_socket, tv_socket = await Client().connect(), await Client().connect()
        await phone_socket.request({"type": "auth", "token": phone.key})
        await tv_socket.request({"type": "auth", "token": tv.key})
        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=f"Bearer {phone.key}")
        assert (await db(api.delete)(f"/api/v1/auth/tokens/{tv.pk}/")).status_code == 204

        frames, code = await close_code(tv_socket)
        assert code == Close.SIGNED_OUT
        assert '"reason":"revoked"' in frames[-1]["text"]
        assert (await phone_socket.request({"type": "ping"}))["type"] == "pong"
        await phone_socket.close()

    run(scenario)


@pytest.mark.slow
def test_through_a_real_daphne_the_close_codes_reach_the_client():
    """daphne's websocket library takes only plain ints as close codes: the codes must survive it. A
    stopping server (SIGTERM) drains (csn.serve): each socket hears `reconnect`, then closes with 4012."""
    import json

    from websockets.exceptions import ConnectionClosed
    from websockets.sync.client import connect

    from streaming.tests.servers import daphne_on_test_db

    with daphne_on_test_db() as (base,):
        url = base.replace("http", "ws") + "/ws/"
        with connect(url + "?v=3", open_timeout=10) as refused:
            assert json.loads(refused.recv(timeout=5))["code"] == "unsupported_version"
            with pytest.raises(ConnectionClosed) as closed:
                refused.recv(timeout=5)
            assert closed.value.rcvd.code == 4406
        staying = connect(url, open_timeout=10)
        assert json.loads(staying.recv(timeout=5))["type"] == "hello"
    frames = []
    with pytest.raises(ConnectionClosed) as closed:  # the server stopped meanwhile
        while True:
            frames.append(json.loads(staying.recv(timeout=15)))
    assert [frame["type"] for frame in frames] == ["reconnect"]
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4012
