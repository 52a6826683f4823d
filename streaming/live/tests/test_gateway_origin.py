"""Cookie sessions only from allowed origins; native apps (no Origin) sign in with a token message."""

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import Client as HttpClient

from csn.asgi import application
from streaming.tests.live import Client
from testing.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _in_memory_channel_layer(settings):
    # A refused handshake leaves Channels' denier waiting on the channel layer; on Redis its pending
    # receive, cancelled as async_to_sync closes the loop, hung a CI run once (channels_redis#317).
    # The origin rules do not touch the layer, so these tests do not need Redis.
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}


def _session_cookie(user) -> bytes:
    http = HttpClient()
    http.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={http.cookies[settings.SESSION_COOKIE_NAME].value}".encode()


def test_a_foreign_origin_is_refused():
    async def scenario():
        communicator = WebsocketCommunicator(application, "/ws/", headers=[(b"origin", b"https://evil.example")])
        connected, _ = await communicator.connect()
        await communicator.disconnect()
        assert not connected

    async_to_sync(scenario)()


def test_the_session_cookie_signs_in_from_an_allowed_origin():
    user = UserFactory()
    cookie = _session_cookie(user)

    async def scenario():
        client = await Client(headers=[(b"origin", b"http://127.0.0.1:8000"), (b"cookie", cookie)]).connect()
        reply = await client.request({"type": "subscribe", "topic": "user"})
        assert (reply["type"], reply["data"]["user"]["id"]) == ("snapshot", user.pk)
        await client.close()

    async_to_sync(scenario)()


def test_without_origin_the_cookie_is_ignored_and_a_token_is_needed():
    user = UserFactory()
    cookie = _session_cookie(user)

    async def scenario():
        client = await Client(headers=[(b"cookie", cookie)]).connect()
        reply = await client.request({"type": "subscribe", "topic": "user"})
        assert (reply["type"], reply["code"]) == ("error", "auth_required")
        await client.close()

    async_to_sync(scenario)()


async def _connects(origin: bytes) -> bool:
    communicator = WebsocketCommunicator(application, "/ws/", headers=[(b"origin", origin)])
    connected, _ = await communicator.connect()
    await communicator.disconnect()  # a refused handshake's denier also waits for the disconnect
    return connected


@pytest.mark.parametrize(
    "origin",
    [
        b"http://127.0.0.1:8001",  # another app on the same host name, another port
        b"https://127.0.0.1:8000",  # another scheme
        b"http://127.0.0.1",  # the default port is not 8000
        b"http://localhost:9999",
        b"http://evil.127.0.0.1:8000",
        b"null",
    ],
)
def test_an_allowed_host_name_on_another_scheme_or_port_is_refused(origin):
    assert not async_to_sync(_connects)(origin)


@pytest.mark.parametrize("origin", [b"http://127.0.0.1:8000", b"http://localhost:8000", b"HTTP://LocalHost:8000"])
def test_the_embedded_server_own_origins_are_allowed(origin):
    assert async_to_sync(_connects)(origin)


def test_configured_origins_are_compared_whole(settings):
    settings.WS_ALLOWED_ORIGINS = ["https://watch.example.com", "https://app.example.com:8443"]

    assert async_to_sync(_connects)(b"https://watch.example.com")
    assert async_to_sync(_connects)(b"https://watch.example.com:443")
    assert async_to_sync(_connects)(b"https://app.example.com:8443")
    assert not async_to_sync(_connects)(b"http://watch.example.com")
    assert not async_to_sync(_connects)(b"https://app.example.com")
    assert not async_to_sync(_connects)(b"http://127.0.0.1:8000")
