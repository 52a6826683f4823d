"""Live chat: posting over the socket, the rules, idempotent refs, moderation."""

from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.services import token_issue
from analytics.models import OutboxEvent
from content.models import Game
from csn.errors import ApplicationError
from streaming.live.models import ChatMessage, ChatMute, GameChat
from streaming.live.services import chat as chat_services
from streaming.live.tests.factories import moderator
from streaming.tests.live import Client, db
from testing.factories import LiveGameFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def _token(user) -> str:
    return token_issue(user=user).key


def _code(**kwargs) -> str:
    with pytest.raises(ApplicationError) as info:
        chat_services.chat_message_post(**kwargs)
    return info.value.code


def test_a_message_reaches_followers_with_the_author_denormalized(outbox_held):
    game = LiveGameFactory()
    author = UserFactory(display_name="Ana")
    author.avatar_url = "https://cdn.example/ana.png"
    author.save()
    token = _token(author)

    async def scenario():
        reader = await Client().connect()
        await reader.request({"type": "subscribe", "topic": f"chat:{game.pk}"})
        writer = await Client().connect()
        await writer.request({"type": "auth", "token": token})
        ack = await writer.request({"type": "chat.send", "game": game.pk, "text": "  <b>Go</b> team!  ", "ref": "m1"})
        assert ack["type"] == "ack" and ack["ref"] == "m1"
        (event,) = await reader.recv_events(1)
        assert event["name"] == "chat.message"
        assert event["data"]["text"] == "<b>Go</b> team!"  # trimmed, kept as text
        assert event["data"]["user"] == {"id": author.pk, "name": "Ana", "avatar": "https://cdn.example/ana.png"}
        await reader.close()
        await writer.close()

    async_to_sync(scenario)()
    message = ChatMessage.objects.get()
    assert (message.user_name, message.user_avatar) == ("Ana", "https://cdn.example/ana.png")
    assert OutboxEvent.objects.filter(name="chat_message_sent", distinct_id=str(author.pk)).count() == 1


def test_a_repeated_ref_does_not_post_twice():
    game, user = LiveGameFactory(), UserFactory()
    first = chat_services.chat_message_post(user=user, game_id=game.pk, text="hello", client_ref="abc")
    again = chat_services.chat_message_post(user=user, game_id=game.pk, text="hello", client_ref="abc")
    assert first.pk == again.pk
    assert ChatMessage.objects.count() == 1


def test_text_is_trimmed_bounded_and_not_empty(settings):
    settings.LIVE_CHAT_MAX_LENGTH = 10
    game, user = LiveGameFactory(), UserFactory()
    assert _code(user=user, game_id=game.pk, text="   ") == "message_empty"
    assert _code(user=user, game_id=game.pk, text="x" * 11) == "message_too_long"
    assert _code(user=user, game_id=game.pk, text="a\x00b") == "invalid_characters"
    assert chat_services.chat_message_post(user=user, game_id=game.pk, text=" " + "x" * 10 + " ").text == "x" * 10


def test_chat_is_closed_unless_live_or_opened_early_by_staff():
    game, user, staff = LiveGameFactory(status=Game.Status.SCHEDULED), UserFactory(), UserFactory(is_staff=True)
    assert _code(user=user, game_id=game.pk, text="hi") == "chat_closed"
    with pytest.raises(ApplicationError) as info:
        chat_services.chat_settings_update(actor=moderator(), game_id=game.pk, opened_early=True)
    assert info.value.code == "permission_denied"
    chat_services.chat_settings_update(actor=staff, game_id=game.pk, opened_early=True)
    assert chat_services.chat_message_post(user=user, game_id=game.pk, text="early").text == "early"
    final = LiveGameFactory(status=Game.Status.FINAL)
    assert _code(user=user, game_id=final.pk, text="late") == "chat_closed"


def test_per_user_rate_limit_and_slow_mode(settings):
    settings.LIVE_CHAT_RATE_COUNT = 3
    game, user, mod = LiveGameFactory(), UserFactory(), moderator()
    for n in range(3):
        chat_services.chat_message_post(user=user, game_id=game.pk, text=f"m{n}")
    assert _code(user=user, game_id=game.pk, text="again") == "rate_limited"
    for n in range(5):  # moderators are exempt
        chat_services.chat_message_post(user=mod, game_id=game.pk, text=f"mod{n}")

    other = UserFactory()
    GameChat.objects.create(game=game, slow_mode_seconds=30)
    chat_services.chat_message_post(user=other, game_id=game.pk, text="one")
    assert _code(user=other, game_id=game.pk, text="two") == "slow_mode"


def test_over_the_socket_errors_carry_the_code_and_ref():
    game = LiveGameFactory(status=Game.Status.SCHEDULED)
    token = _token(UserFactory())

    async def scenario():
        client = await Client().connect()
        await client.request({"type": "auth", "token": token})
        reply = await client.request({"type": "chat.send", "game": game.pk, "text": "hi", "ref": 9})
        assert (reply["type"], reply["code"], reply["ref"]) == ("error", "chat_closed", 9)
        reply = await client.request({"type": "chat.send", "game": "x", "text": "hi"})
        assert reply["code"] == "invalid_message"
        await client.close()

    async_to_sync(scenario)()


def test_moderators_delete_for_everyone_and_mute():
    game, author, mod = LiveGameFactory(), UserFactory(), moderator()
    message = chat_services.chat_message_post(user=author, game_id=game.pk, text="spam")
    api = APIClient()

    async def scenario():
        reader = await Client().connect()
        snapshot = await reader.request({"type": "subscribe", "topic": f"chat:{game.pk}"})
        assert [m["id"] for m in snapshot["data"]["messages"]] == [message.pk]

        def delete_as(user):
            api.force_authenticate(user)
            return api.delete(f"/api/v1/chat/messages/{message.pk}/")

        refused = await db(delete_as)(author)
        assert (refused.status_code, refused.json()["error"]["code"]) == (403, "permission_denied")
        assert (await db(delete_as)(mod)).status_code == 204
        (event,) = await reader.recv_events(1)
        assert (event["name"], event["data"]) == ("chat.deleted", {"id": message.pk})
        again = await Client().connect()
        snapshot = await again.request({"type": "subscribe", "topic": f"chat:{game.pk}"})
        assert snapshot["data"]["messages"] == []
        await reader.close()
        await again.close()

    async_to_sync(scenario)()

    api.force_authenticate(author)
    assert api.post(f"/api/v1/games/{game.pk}/chat/mutes/", {"user": author.pk, "minutes": 5}).status_code == 403
    api.force_authenticate(mod)
    response = api.post(f"/api/v1/games/{game.pk}/chat/mutes/", {"user": author.pk, "minutes": 5})
    assert response.status_code == 201
    assert ChatMute.objects.get().until > timezone.now()
    assert _code(user=author, game_id=game.pk, text="back") == "muted"
    other_game = LiveGameFactory()
    assert chat_services.chat_message_post(user=author, game_id=other_game.pk, text="elsewhere")
    bad = api.post(f"/api/v1/games/{game.pk}/chat/mutes/", {"user": author.pk, "minutes": 0})
    assert bad.status_code == 400 and ChatMute.objects.count() == 1


def test_posting_is_a_fixed_handful_of_queries(django_assert_num_queries, outbox_held):
    """Chat is the hottest write: one read for every rule, then the writes and the event."""
    game, user = LiveGameFactory(), UserFactory()
    chat_services.chat_message_post(user=user, game_id=game.pk, text="first", client_ref="a")
    # begin, lock the author (PostgreSQL), read state, insert message, bump seq, insert event, insert
    # outbox, commit
    from django.db import connection

    with django_assert_num_queries(8 if connection.features.has_select_for_update else 7):
        chat_services.chat_message_post(user=user, game_id=game.pk, text="second", client_ref="b")


def test_pipelined_sends_are_all_acked_and_posted_in_order():
    game = LiveGameFactory()
    token = _token(moderator())

    async def scenario():
        reader = await Client().connect()
        await reader.request({"type": "subscribe", "topic": f"chat:{game.pk}"})
        writer = await Client().connect()
        await writer.request({"type": "auth", "token": token})
        for n in range(6):  # no waiting for acks in between
            await writer.send({"type": "chat.send", "game": game.pk, "text": f"m{n}", "ref": f"p{n}"})
        acks = [await writer.recv() for _ in range(6)]
        assert sorted(a["ref"] for a in acks) == [f"p{n}" for n in range(6)]
        events = await reader.recv_events(6)
        assert [e["data"]["text"] for e in events] == [f"m{n}" for n in range(6)]
        await reader.close()
        await writer.close()

    async_to_sync(scenario)()


def test_the_rules_look_at_the_right_time_window_and_game(settings):
    """Expired mutes, messages older than the rate window or the slow mode, and messages in other
    games do not hold a post back."""
    settings.LIVE_CHAT_RATE_COUNT = 2
    game, elsewhere, user = LiveGameFactory(), LiveGameFactory(), UserFactory()
    ChatMute.objects.create(game=game, user=user, until=timezone.now() - timedelta(seconds=1))
    old = [chat_services.chat_message_post(user=user, game_id=game.pk, text=f"old {n}") for n in range(2)]
    assert _code(user=user, game_id=game.pk, text="too fast") == "rate_limited"

    past = timezone.now() - timedelta(seconds=max(settings.LIVE_CHAT_RATE_WINDOW_SECONDS, 30) + 1)
    ChatMessage.objects.filter(pk__in=[m.pk for m in old]).update(created_at=past)
    assert chat_services.chat_message_post(user=user, game_id=game.pk, text="later").text == "later"
    GameChat.objects.create(game=game, slow_mode_seconds=30)
    assert _code(user=user, game_id=game.pk, text="slow") == "slow_mode"
    assert chat_services.chat_message_post(user=user, game_id=elsewhere.pk, text="other game").text == "other game"


def test_mutes_made_changed_or_lifted_in_admin_reach_the_chat():
    from datetime import datetime

    from django.test import Client as HttpClient

    from csn.realtime.models import LiveEvent

    game, target, mod = LiveGameFactory(), UserFactory(), moderator(is_staff=True)
    browser = HttpClient()
    browser.force_login(mod)
    topic = f"chat:{game.pk}"

    def muted_events():
        return [e.data for e in LiveEvent.objects.filter(topic=topic, name="chat.muted").order_by("seq")]

    until = (timezone.now() + timedelta(minutes=10)).replace(microsecond=0)
    form = {
        "game": game.pk,
        "user": target.pk,
        "until_0": until.strftime("%Y-%m-%d"),
        "until_1": until.strftime("%H:%M:%S"),
    }
    response = browser.post("/admin/streaming/chatmute/add/", form)
    assert response.status_code == 302, response.content[:500]
    mute = ChatMute.objects.get()
    assert mute.created_by == mod
    assert _code(user=target, game_id=game.pk, text="hi") == "muted"

    earlier = until - timedelta(minutes=9)
    form |= {"until_0": earlier.strftime("%Y-%m-%d"), "until_1": earlier.strftime("%H:%M:%S")}
    assert browser.post(f"/admin/streaming/chatmute/{mute.pk}/change/", form).status_code == 302
    assert browser.post(f"/admin/streaming/chatmute/{mute.pk}/delete/", {"post": "yes"}).status_code == 302
    assert not ChatMute.objects.exists()
    assert chat_services.chat_message_post(user=target, game_id=game.pk, text="back").text == "back"

    events = muted_events()
    assert [e["user"] for e in events] == [target.pk] * 3
    ends = [datetime.fromisoformat(e["until"]) for e in events]
    assert ends[0] == until and ends[1] == earlier and ends[2] <= timezone.now()


def test_concurrent_posts_of_one_user_pass_the_rate_limit_at_most_its_count(settings, monkeypatch, outbox_held):
    """Ten posts at once (threads: separate connections, as separate processes would be): the rules
    are read and the message inserted under one lock of the author, so at most the limit pass."""
    import threading
    import time
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connection

    settings.LIVE_CHAT_RATE_COUNT = 3
    game, user = LiveGameFactory(), UserFactory()
    real_state = chat_services._chat_post_state

    def slow_state(**kwargs):  # widen the read-then-insert window, as a loaded server does
        state = real_state(**kwargs)
        time.sleep(0.05)
        return state

    monkeypatch.setattr(chat_services, "_chat_post_state", slow_state)
    barrier = threading.Barrier(10)

    def post(index) -> str:
        try:
            barrier.wait(timeout=10)
            chat_services.chat_message_post(user=user, game_id=game.pk, text=f"hi {index}")
            return "posted"
        except ApplicationError as exc:
            return exc.code
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=10) as pool:
        results = list(pool.map(post, range(10), timeout=60))

    assert sorted(results) == ["posted"] * 3 + ["rate_limited"] * 7, results
    assert ChatMessage.objects.filter(user=user).count() == 3
