"""Bad frames on /ws/ get an error with a code, never `server_error`, and the socket stays usable:
NUL and lone surrogates in any string, ids past the database's range, then random frames (hypothesis)."""

import asyncio
import json
import threading
import time

import pytest
from asgiref.sync import async_to_sync
from django.conf import settings as django_settings
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from accounts.services import token_issue
from streaming.tests.live import Client
from testing.factories import LiveGameFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

FUZZ_SECONDS = 30  # the random part's time box; examples stop early when it is spent

ERROR_CODES = {
    "malformed_json",
    "invalid_message",
    "invalid_characters",
    "message_too_large",
    "unknown_type",
    "unknown_topic",
    "not_found",
    "not_subscribed",
    "auth_required",
    "invalid_token",
    "already_authenticated",
    "too_many_subscriptions",
    "invalid",
    "chat_closed",
    "muted",
    "rate_limited",
    "slow_mode",
    "stream_limit",
    "session_ended",
    "message_empty",
    "permission_denied",
    "message_too_long",
}


@pytest.fixture
def live(settings):
    settings.LIVE_FLOOD_MESSAGES_PER_SECOND = 10_000  # the fuzz sends as fast as replies come
    user = UserFactory()
    return {"game": LiveGameFactory(), "token": token_issue(user=user).key}


async def reply_to(client: Client, ref) -> dict:
    """The reply to the last request, skipping pushed events (a heartbeat moves the viewer count).
    Requests go one at a time, so it is the next message that is not a push; it carries `ref` unless the
    frame was refused before its `ref` was read (not JSON, not an object with a `type`)."""
    while True:
        message = await client.recv(5)
        if message["type"] not in ("event", "batch", "notice"):
            assert message.get("ref") in (ref, None), (ref, message)
            return message


async def still_usable(client: Client) -> None:
    await client.send({"type": "ping", "ref": "alive"})
    assert (await reply_to(client, "alive"))["type"] == "pong"


def frames(live) -> list[tuple[str, str]]:
    game = live["game"].pk
    return [
        ('{"type": "auth", "token": "\\u0000abc"}', "invalid_characters"),
        ('{"type": "auth", "token": "ab\\ud800c"}', "invalid_characters"),
        ('{"type": "auth\\u0000", "token": "x"}', "invalid_characters"),
        (f'{{"type": "heartbeat", "game": {game}, "device": "tv\\u0000"}}', "invalid_characters"),
        (f'{{"type": "heartbeat", "game": {game}, "device": "\\udfff"}}', "invalid_characters"),
        (f'{{"type": "heartbeat", "game": {game}, "replace": "\\u0000"}}', "invalid_characters"),
        (f'{{"type": "chat.send", "game": {game}, "text": "hi \\ud83d"}}', "invalid_characters"),
        (f'{{"type": "chat.send", "game": {game}, "text": "a\\u0000b"}}', "invalid_characters"),
        (f'{{"type": "chat.send", "game": {game}, "text": "ok", "\\ud800": 1}}', "invalid_characters"),
        ('{"type": "ping", "ref": "\\ud800"}', "invalid_characters"),
        (f'{{"type": "chat.send", "game": {2**63}, "text": "hi"}}', "invalid_message"),
        (f'{{"type": "heartbeat", "game": {10**30}}}', "invalid_message"),
        (f'{{"type": "subscribe", "topic": "game:{game}", "since": {2**63}}}', "invalid_message"),
        ('{"type": "subscribe", "topic": "game:\u00b2"}', "unknown_topic"),
        ('{"type": "subscribe", "topic": "chat:\u0661"}', "unknown_topic"),
    ]


def test_nul_surrogates_and_out_of_range_ids_get_an_error_code_not_server_error(live):
    async def scenario():
        anonymous, signed_in = await Client().connect(), await Client().connect()
        await signed_in.send({"type": "auth", "token": live["token"], "ref": "a"})
        assert (await reply_to(signed_in, "a"))["type"] == "ack"
        for client in (anonymous, signed_in):
            for raw, code in frames(live):
                await client.send(raw)
                reply = await client.recv()
                assert (reply["type"], reply["code"]) == ("error", code), (raw, reply)
                await still_usable(client)
            await client.close()

    async_to_sync(scenario)()


# --- random frames -------------------------------------------------------------------------------

TYPES = ["auth", "heartbeat", "chat.send", "subscribe", "unsubscribe", "ping", "dance"]
FIELDS = ["token", "game", "text", "device", "replace", "topic", "since"]

# Any code point, NUL and lone surrogates often (json.dumps sends them as \\u escapes, as a client would).
any_text = st.lists(
    st.one_of(st.characters(), st.sampled_from(["\x00", "\ud800", "\udbff", "\udc00", "\udfff"])), max_size=40
).map("".join)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    any_text,
    st.sampled_from(["game:1", "chat:1", "user", "game:", "game:-1", "game:1e3", "game:\u00b2", "x" * 65]),
)
values = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(any_text, inner, max_size=3), max_leaves=8
)
messages = st.fixed_dictionaries({"type": st.sampled_from(TYPES)}, optional=dict.fromkeys(FIELDS, any_text | values))
raw_frames = st.one_of(
    messages.map(lambda m: ("json", m)),
    values.map(lambda v: ("json", v)),
    st.text(min_size=1, max_size=60).map(lambda t: ("text", t)),  # raw text: valid UTF-8, as on the wire
)


def test_random_frames_never_get_server_error_and_the_socket_stays_usable(live):
    deadline = time.monotonic() + FUZZ_SECONDS
    examples = []
    game = live["game"].pk

    async def one_example(batch):
        client = await Client().connect()
        await client.send({"type": "auth", "token": live["token"], "ref": "a"})
        assert (await reply_to(client, "a"))["type"] == "ack"
        for n, (kind, frame) in enumerate(batch):
            if kind == "json":
                if isinstance(frame, dict) and "type" in frame:
                    frame = {**frame, "ref": f"f{n}"}
                    if frame.get("game") == 1:
                        frame["game"] = game  # now and then, a game that exists
                text, ref = json.dumps(frame), frame.get("ref") if isinstance(frame, dict) else None
            else:
                text, ref = frame, None
            await client.send(text)
            reply = await reply_to(client, ref)
            assert reply.get("code") != "server_error", (text, reply)
            if reply["type"] == "error":
                assert reply["code"] in ERROR_CODES, (text, reply)
            await still_usable(client)
        await client.close()

    @hypothesis_settings(
        max_examples=800,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(batch=st.lists(raw_frames, min_size=1, max_size=5))
    def fuzz(batch):
        if time.monotonic() > deadline:
            return  # time box spent: the remaining examples pass without running
        examples.append(batch)
        asyncio.run_coroutine_threadsafe(one_example(batch), loop).result(60)

    # One event loop for every example (Channels' Redis layer keeps its connections per loop).
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        fuzz()
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
    print(f"{len(examples)} random examples in {FUZZ_SECONDS} s at most")


@pytest.mark.skipif(
    not django_settings.REDIS_URL,
    reason="the race is channels-redis' (the embedded in-memory layer has no read timeout); CI runs it on Redis",
)
def test_a_signed_in_socket_idle_past_the_layers_blocking_receive_stays_usable(live):
    """channels-redis blocks 5 s on its receive; redis-py 8 reads with a 5 s default timeout: without a
    longer socket_timeout (csn/settings.py) the consumer died of TimeoutError after ~5 idle seconds."""

    async def scenario():
        client = await Client().connect()
        await client.send({"type": "auth", "token": live["token"], "ref": "a"})
        assert (await reply_to(client, "a"))["type"] == "ack"
        await asyncio.sleep(11)  # two blocking receives
        await still_usable(client)
        await client.close()

    async_to_sync(scenario)()
