"""The AsyncAPI document (streaming/live/asyncapi.yaml) against the gateway: it is served, it is whole,
every message it names is seen in real frames (each checked against it by streaming.tests.live.Client),
and the code publishes no event or notice it does not describe."""

import asyncio
import json
import re
import time
from pathlib import Path

import pytest
import yaml
from asgiref.sync import async_to_sync
from django.db import transaction
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import AuthToken
from accounts.services import token_issue
from csn.realtime import drain, load
from csn.realtime.hub import hub
from csn.realtime.publish import publish_many
from streaming.fans.services import favorite_team_add, notification_mark_all_read, notify_game_live
from streaming.live.services import chat, scores
from streaming.live.tests import test_chat_asyncapi
from streaming.live.tests.factories import moderator, scorekeeper
from streaming.live.topics import game_topic
from streaming.tests import asyncapi
from streaming.tests.live import Client, db
from streaming.viewing.services import history_clear, history_entry_delete, my_list_add, progress_record
from testing.factories import ContentFactory, LiveGameFactory, UserFactory, member_of

ROOT = Path(__file__).resolve().parents[3]


def test_the_document_is_served_next_to_the_openapi_schema(client):
    response = client.get("/api/asyncapi.yaml")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/yaml")
    served = yaml.safe_load(response.content)
    assert served == asyncapi.document()
    assert served["asyncapi"].startswith("3.")


def test_every_reference_in_the_document_resolves():
    document = asyncapi.document()
    refs = re.findall(r"\$ref['\"]?: ['\"]?#/([^'\"\s}]+)", asyncapi.DOCUMENT.read_text())
    assert refs
    for ref in refs:
        node = document
        for part in ref.split("/"):
            node = node[part]
    assert set(asyncapi.server_messages()) | set(asyncapi.client_messages()) == set(
        document["channels"]["gateway"]["messages"]
    )


def _code() -> str:
    """The code that may publish (not its tests)."""
    paths = [*ROOT.glob("streaming/**/*.py"), *ROOT.glob("content/**/*.py"), *ROOT.glob("accounts/**/*.py")]
    return "\n".join(path.read_text() for path in paths if "tests" not in path.parts)


def _names_after(call: str, code: str) -> set[str]:
    """The `name=` of each call of `call(`, within the call's first lines."""
    return {
        match
        for start in (m.end() for m in re.finditer(r"(?<![\w])(?<!def )" + re.escape(call) + r"\(", code))
        for match in re.findall(r"""\bname=["']([a-z._]+)["']""", code[start : start + 300])[:1]
    }


def _documented(kind: str) -> set[str]:
    names = set()
    for message in asyncapi.document()["components"]["messages"].values():
        payload = message["payload"]
        for part in [payload, *payload.get("allOf", [])]:
            properties = part.get("properties", {})
            is_kind = (kind == "event" and "topic" in properties) or properties.get("type", {}).get("const") == kind
            if is_kind and "const" in properties.get("name", {}):
                names.add(properties["name"]["const"])
    return names


def test_the_code_publishes_only_documented_events_and_notices():
    code = _code()
    events = _names_after("publish", code) | _names_after("publish_user_event", code)
    # publish_many's tuples: (chat_topic(…), "chat.muted", {…})
    events |= set(re.findall(r"""_topic\([^()]*(?:\([^()]*\))?[^()]*\),\s*["']([a-z._]+)["']""", code))
    notices = _names_after("user_sockets_notify", code)
    assert events >= {"game.event", "viewers", "chat.message", "chat.deleted", "chat.muted", "chat.settings"}
    assert events >= {"notification.created", "notification.read", "progress.updated", "mylist.changed"}
    assert notices >= {"chat.muted", "session.ended"}
    assert events <= _documented("event"), events - _documented("event")
    assert notices <= _documented("notice"), notices - _documented("notice")


@pytest.mark.django_db(transaction=True)
def test_every_documented_message_is_seen_in_real_frames_and_every_request_is_documented():
    game = LiveGameFactory()
    fan, keeper, mod = UserFactory(), scorekeeper(), moderator()
    content, other_content = ContentFactory(), ContentFactory()
    favorite_team_add(user=fan, team_id=game.home_team_id)
    key = token_issue(user=fan, name="phone").key
    editor_key = token_issue(user=member_of("Editors", is_staff=True), name="studio").key
    sent: list[str] = []

    async def request(client: Client, message: dict) -> dict:
        sent.append(asyncapi.client_frame(message))
        return await client.request(message)

    async def scenario():
        watcher = await Client().connect()
        await request(watcher, {"type": "ping", "ref": 1})
        await request(watcher, {"type": "align", "horizon": timezone.now().isoformat(), "ref": "al"})
        await request(watcher, {"type": "subscribe", "topic": f"game:{game.pk}", "ref": "g"})
        await request(watcher, {"type": "subscribe", "topic": f"chat:{game.pk}", "ref": "c"})
        phone = await Client().connect()
        await request(phone, {"type": "auth", "token": key, "ref": "a"})
        await request(phone, {"type": "subscribe", "topic": "user", "ref": "u"})
        session = (await request(phone, {"type": "heartbeat", "game": game.pk, "device": "phone"}))["session"]
        await watcher.recv_events(1)  # viewers
        posted = await request(phone, {"type": "chat.send", "game": game.pk, "text": "Go!", "ref": "w1"})
        await watcher.recv_events(1)  # chat.message
        assert (await phone.request({"type": "dance"}))["type"] == "error"

        await db(scores.game_event_record)(actor=keeper, game_id=game.pk, home_score=1, description="Dunk")
        await db(chat.chat_message_delete)(actor=mod, message_id=posted["message"]["id"])
        await db(chat.chat_user_mute)(actor=mod, game_id=game.pk, user_id=fan.pk, minutes=5)
        await db(chat.chat_settings_update)(actor=mod, game_id=game.pk, slow_mode_seconds=5)
        await watcher.recv_events(4)  # game.event, chat.deleted, chat.muted, chat.settings
        await phone.recv()  # the chat.muted notice

        def two_at_once():  # what a busy topic sends: one `batch` frame
            with transaction.atomic():
                publish_many(
                    [(game_topic(game.pk), "viewers", {"count": 1}), (game_topic(game.pk), "viewers", {"count": 2})]
                )

        hub.next_pass[game_topic(game.pk)] = asyncio.get_running_loop().time() + 0.3  # both wait for one pass
        await db(two_at_once)()
        assert (await watcher.recv())["type"] == "batch"

        def user_events():
            notify_game_live(game=game)
            notification_mark_all_read(user=fan)
            for item in (content, other_content):
                progress_record(
                    user=fan, content_id=item.pk, position_seconds=60, duration_seconds=600, recorded_at=timezone.now()
                )
            history_entry_delete(user=fan, content_id=content.pk)
            history_clear(user=fan)
            my_list_add(user=fan, content_id=content.pk)

        await db(user_events)()
        await phone.recv_events(7)

        studio = await Client().connect()
        await request(studio, {"type": "auth", "token": editor_key, "ref": "s"})
        await request(studio, {"type": "subscribe", "topic": f"studio:{content.pk}", "ref": "st"})
        await request(studio, {"type": "studio.open", "content": content.pk, "ref": "o"})
        await studio.recv_events(1)  # editors
        await request(studio, {"type": "studio.close", "content": content.pk, "ref": "cl"})
        await studio.recv_events(1)  # editors, now none
        await studio.close()

        await request(watcher, {"type": "unsubscribe", "topic": f"chat:{game.pk}", "ref": "x"})
        sent.append(asyncapi.client_frame({"type": "subscribe", "topic": f"game:{game.pk}"}))
        await watcher.send({"type": "subscribe", "topic": f"game:{game.pk}"})
        while (snapshot := await watcher.recv())["type"] != "snapshot":  # an event still on its way
            pass
        last = snapshot["seq"]
        await db(scores.game_event_record)(actor=keeper, game_id=game.pk, away_score=2)
        await watcher.recv_events(1)
        await request(watcher, {"type": "subscribe", "topic": f"game:{game.pk}", "since": last, "ref": "r"})
        await watcher.recv()  # the ack after the replayed event

        # Under load (level 1) a viewer count inside its window is shed: `skipped`.
        load.state.level, load.state.state_sent[game_topic(game.pk)] = 1, time.monotonic()
        try:
            await db(two_at_once)()  # two viewer counts: both inside the window, both shed
            assert [event["name"] for event in await watcher.recv_events(2)] == ["skipped", "skipped"]
        finally:
            load.state.level = 0
            load.state.state_sent.clear()

        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
        assert (await db(api.delete)(f"/api/v1/live/sessions/{session}/")).status_code == 204
        await phone.recv()  # session.ended
        assert (await db(api.post)("/api/v1/auth/logout/")).status_code == 204
        await phone.recv()  # signed_out, then the close
        try:  # this process drains (SIGTERM): the watcher is told to reconnect, then closed with 4012
            await drain.drain(window=0)
            while (await watcher.recv())["type"] != "reconnect":  # a viewer count may still come first
                pass
        finally:
            drain.draining = False
        await watcher.close()
        return watcher.seen + phone.seen + studio.seen

    seen = set(async_to_sync(scenario)())
    # Chat moderation and engagement's messages are seen in test_chat_asyncapi.py's scenario.
    expected = set(asyncapi.server_messages()) - test_chat_asyncapi.FRAMES
    assert seen == expected, expected - seen
    assert set(sent) == set(asyncapi.client_messages()) - test_chat_asyncapi.REQUESTS


def test_documented_examples_are_valid_messages():
    for name, message in asyncapi.document()["components"]["messages"].items():
        for example in message.get("examples", []):
            frame = example["payload"]
            matched = asyncapi.client_frame(frame) if name in asyncapi.client_messages() else None
            matched = matched or asyncapi.server_frame(frame)[0]
            assert matched == name


def test_the_signed_out_reasons_are_the_ends_of_a_credential():
    """A `signed_out` notice's reasons: why a token was revoked (AuthToken.Reason), or its expiry."""
    data = asyncapi.document()["components"]["messages"]["signedOutNotice"]["payload"]["properties"]["data"]
    assert set(data["properties"]["reason"]["enum"]) == {*AuthToken.Reason.values, "token_expired"}


CLIENT_TYPES = {
    "ping",
    "auth",
    "subscribe",
    "unsubscribe",
    "chat.send",
    "heartbeat",
    "studio.open",
    "studio.close",
    "align",
}
CLIENT_TYPES |= {"chat.report", "reaction", "poll.vote", "prediction.pick"}


def test_the_sample_frames_of_docs_protocol_are_documented_messages():
    text = (ROOT / "docs" / "protocol.md").read_text()
    samples = text.split("## Sample frames", 1)[1].split("\n## ", 1)[0]
    lines = [line for block in re.findall(r"```json\n(.*?)```", samples, re.S) for line in block.splitlines()]
    seen = set()
    for line in lines:
        answer = line.startswith("← ")
        frame = json.loads(line.removeprefix("← "))
        if not answer and frame["type"] in CLIENT_TYPES:
            seen.add(asyncapi.client_frame(frame))
        else:
            seen.update(asyncapi.server_frame(frame))
    assert seen >= set(asyncapi.client_messages()) | set(asyncapi.server_messages()) - {"hello"}
