"""Held messages, gates, reports, the moderators' topic, bans and the audit, with frames intercepted."""

from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import Subscription
from analytics.models import OutboxEvent
from csn.errors import ApplicationError
from streaming.live.models import BannedTerm, ChatBan, ChatMessage, ChatReport, GameChat, ModerationAction
from streaming.live.services import chat as chat_services
from streaming.live.services import moderation
from streaming.live.tests.factories import moderator
from streaming.tests.live import Client, db, error_code, token_for
from testing.concurrency import run_together
from testing.factories import LiveGameFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def _post(user, game, text="hello", **kwargs) -> ChatMessage:
    return chat_services.chat_message_post(user=user, game_id=game.pk, text=text, **kwargs)


def _hold(term: str, mod) -> None:
    moderation.banned_term_save(actor=mod, term=BannedTerm(term=term, action=BannedTerm.Action.HOLD))


def _api(user) -> APIClient:
    api = APIClient()
    api.force_authenticate(user)
    return api


def test_a_held_message_reaches_its_author_and_moderators_only_until_approved():
    game, author, mod = LiveGameFactory(), UserFactory(), moderator()
    _hold("ref", mod)
    author_token, mod_token = token_for(author), token_for(mod)

    async def scenario():
        viewer = await Client().connect()
        await viewer.request({"type": "subscribe", "topic": f"chat:{game.pk}"})
        moderating = await Client().connect()
        await moderating.request({"type": "auth", "token": mod_token})
        queue = await moderating.request({"type": "subscribe", "topic": f"mod:{game.pk}"})
        assert queue["type"] == "snapshot" and queue["data"] == {"held": [], "reports": []}
        writer = await Client().connect()
        await writer.request({"type": "auth", "token": author_token})
        ack = await writer.request({"type": "chat.send", "game": game.pk, "text": "blame the ref", "ref": "h"})
        assert ack["type"] == "ack" and ack["message"]["status"] == "pending"
        message_id = ack["message"]["id"]
        (held,) = await moderating.recv_events(1)
        assert (held["name"], held["data"]["id"], held["data"]["held_reason"]) == ("chat.held", message_id, "term: ref")
        assert await viewer.nothing()

        # A late viewer's snapshot does not have it; its author's does, marked pending.
        late = await Client().connect()
        snapshot = await late.request({"type": "subscribe", "topic": f"chat:{game.pk}"})
        assert snapshot["data"]["messages"] == []
        await writer.request({"type": "subscribe", "topic": f"chat:{game.pk}"})
        mine = (await writer.request({"type": "subscribe", "topic": f"chat:{game.pk}"}))["data"]["messages"]
        assert [(m["id"], m["status"]) for m in mine] == [(message_id, "pending")]

        response = await db(_api(mod).post)(f"/api/v1/chat/messages/{message_id}/review/", {"decision": "approve"})
        assert response.status_code == 200 and response.json()["status"] == "published"
        for socket in (viewer, late, writer):
            (event,) = await socket.recv_events(1)
            assert (event["name"], event["data"]["id"], event["data"]["status"]) == (
                "chat.message",
                message_id,
                "published",
            )
        notice = await writer.recv()
        assert notice == {"type": "notice", "name": "chat.approved", "data": {"game": game.pk, "id": message_id}}
        (reviewed,) = await moderating.recv_events(1)
        assert reviewed["data"] == {"id": message_id, "status": "published"}
        for socket in (viewer, late, writer, moderating):
            await socket.close()

    async_to_sync(scenario)()
    assert ModerationAction.objects.filter(
        action="message_approved", actor=mod, message_id=ChatMessage.objects.get().pk
    ).exists()


def test_a_rejected_message_never_reaches_another_socket():
    game, author, mod = LiveGameFactory(), UserFactory(), moderator()
    _hold("ref", mod)

    async def scenario():
        viewer = await Client().connect()
        await viewer.request({"type": "subscribe", "topic": f"chat:{game.pk}"})
        message = await db(_post)(author, game, "ref again")
        response = await db(_api(mod).post)(
            f"/api/v1/chat/messages/{message.pk}/review/", {"decision": "reject", "reason": "abuse"}
        )
        assert response.status_code == 200 and response.json()["status"] == "rejected"
        assert await viewer.nothing()
        await viewer.close()

    async_to_sync(scenario)()
    assert ModerationAction.objects.get(action="message_rejected").reason == "abuse"


def test_two_moderators_reviewing_at_once_one_wins_the_other_is_told():
    game, author = LiveGameFactory(), UserFactory()
    mods = [moderator(), moderator()]
    _hold("ref", mods[0])
    message = _post(author, game, "ref!")

    def review(index):
        try:
            moderation.chat_message_review(actor=mods[index], message_id=message.pk, approve=index == 0)
            return "done"
        except ApplicationError as exc:
            return exc.code

    assert sorted(run_together(2, review)) == ["already_reviewed", "done"]
    message.refresh_from_db()
    assert message.status in ("published", "rejected")
    assert ModerationAction.objects.filter(action__in=["message_approved", "message_rejected"]).count() == 1
    again = _api(mods[1]).post(f"/api/v1/chat/messages/{message.pk}/review/", {"decision": "approve"})
    assert (again.status_code, again.json()["code"]) == (409, "already_reviewed")


def test_gates_refuse_with_their_codes():
    game, mod, user = LiveGameFactory(), moderator(), UserFactory()
    settings_for = lambda **changes: chat_services.chat_settings_update(actor=mod, game_id=game.pk, **changes)  # noqa: E731

    settings_for(min_account_age_minutes=60)
    assert error_code(_post, user=user, game=game) == "account_too_new"
    user.date_joined = timezone.now() - timedelta(hours=2)
    user.save()
    assert _post(user, game).status == "published"

    settings_for(mode=GameChat.Mode.PREMIUM)
    assert error_code(_post, user=user, game=game) == "premium_only"
    Subscription.objects.filter(user=user).update(plan=Subscription.Plan.PREMIUM)
    assert _post(user, game, "premium").status == "published"

    settings_for(mode=GameChat.Mode.FANS)
    assert error_code(_post, user=user, game=game) == "fans_only"
    assert _api(user).post("/api/v1/favorites/teams/", {"team_id": game.away_team_id}).status_code == 201
    assert _post(user, game, "fan").status == "published"

    settings_for(mode=GameChat.Mode.EMOTES)
    assert error_code(_post, user=user, game=game, text="words") == "emotes_only"
    assert _post(user, game, "🔥🔥").status == "published"
    assert _post(mod, game, "moderators may type").status == "published"

    ChatBan.objects.create(user=user, game=None)
    assert error_code(_post, user=user, game=game, text="👏") == "banned"


def test_a_gate_over_the_socket_is_an_error_with_its_code_and_nothing_reaches_readers():
    game, mod, user = LiveGameFactory(), moderator(), UserFactory()
    chat_services.chat_settings_update(actor=mod, game_id=game.pk, mode=GameChat.Mode.PREMIUM)
    token = token_for(user)

    async def scenario():
        reader = await Client().connect()
        await reader.request({"type": "subscribe", "topic": f"chat:{game.pk}"})
        writer = await Client().connect()
        await writer.request({"type": "auth", "token": token})
        reply = await writer.request({"type": "chat.send", "game": game.pk, "text": "hi", "ref": 1})
        assert (reply["type"], reply["code"]) == ("error", "premium_only")
        assert await reader.nothing()
        await reader.close()
        await writer.close()

    async_to_sync(scenario)()
    assert ChatMessage.objects.count() == 0


def test_first_message_review_holds_only_those_never_published():
    game, mod = LiveGameFactory(), moderator()
    veteran, newcomer = UserFactory(), UserFactory()
    _post(veteran, LiveGameFactory(), "old times")
    chat_services.chat_settings_update(actor=mod, game_id=game.pk, first_message_review=True)
    assert _post(veteran, game).status == "published"
    first = _post(newcomer, game)
    assert (first.status, first.held_reason) == ("held", "first message")
    moderation.chat_message_review(actor=mod, message_id=first.pk, approve=True)
    assert _post(newcomer, game, "second").status == "published"


def test_the_moderators_topic_refuses_viewers_even_with_since():
    game, viewer = LiveGameFactory(), UserFactory()
    token = token_for(viewer)

    async def scenario():
        anonymous = await Client().connect()
        reply = await anonymous.request({"type": "subscribe", "topic": f"mod:{game.pk}"})
        assert (reply["type"], reply["code"]) == ("error", "forbidden_topic")
        signed_in = await Client().connect()
        await signed_in.request({"type": "auth", "token": token})
        reply = await signed_in.request({"type": "subscribe", "topic": f"mod:{game.pk}", "since": 0})
        assert (reply["type"], reply["code"]) == ("error", "forbidden_topic")
        await anonymous.close()
        await signed_in.close()

    async_to_sync(scenario)()
    assert _api(viewer).get(f"/api/v1/games/{game.pk}/chat/queue/").status_code == 403


def test_a_report_reaches_the_queue_with_context_and_history_and_is_resolved_once(outbox_held):
    game, author, reporter, mod = LiveGameFactory(), UserFactory(), UserFactory(), moderator()
    before = _post(author, game, "before")
    bad = _post(author, game, "you stink")
    reporter_token, mod_token = token_for(reporter), token_for(mod)

    async def scenario():
        moderating = await Client().connect()
        await moderating.request({"type": "auth", "token": mod_token})
        await moderating.request({"type": "subscribe", "topic": f"mod:{game.pk}"})
        viewer = await Client().connect()
        await viewer.request({"type": "auth", "token": reporter_token})
        ack = await viewer.request({"type": "chat.report", "message": bad.pk, "reason": "abuse", "ref": "r"})
        assert ack["type"] == "ack" and ack["report"]
        wrong = await viewer.request({"type": "chat.report", "message": bad.pk, "reason": "meh"})
        assert wrong["code"] == "invalid_reason"
        (event,) = await moderating.recv_events(1)
        assert event["name"] == "chat.reported"
        item = event["data"]
        assert item["message"]["id"] == bad.pk and item["reason"] == "abuse"
        assert [m["id"] for m in item["context"]] == [before.pk]
        assert (item["reporter"]["id"], item["reporter"]["total"]) == (reporter.pk, 1)
        await moderating.close()
        await viewer.close()

    async_to_sync(scenario)()
    report = ChatReport.objects.get()
    assert OutboxEvent.objects.filter(name="chat_reported", distinct_id=str(reporter.pk)).count() == 1
    queue = _api(mod).get(f"/api/v1/games/{game.pk}/chat/queue/").json()
    assert [r["id"] for r in queue["reports"]] == [report.pk]

    def resolve(index):
        try:
            moderation.chat_report_resolve(actor=mod, report_id=report.pk, action=["ban_game", "dismiss"][index])
            return "done"
        except ApplicationError as exc:
            return exc.code

    assert sorted(run_together(2, resolve)) == ["already_resolved", "done"]
    report.refresh_from_db()
    assert report.status in ("actioned", "dismissed")
    assert ModerationAction.objects.filter(action="report_resolved").count() == 1


@pytest.mark.parametrize(
    ("action", "check"),
    [
        ("delete", lambda m: ChatMessage.objects.get(pk=m.pk).deleted_at is not None),
        ("mute", lambda m: error_code(_post, user=m.user, game=m.game) == "muted"),
        ("ban_game", lambda m: ChatBan.objects.filter(user=m.user, game=m.game).exists()),
        ("ban_all", lambda m: ChatBan.objects.filter(user=m.user, game=None).exists()),
        ("dismiss", lambda m: ChatMessage.objects.get(pk=m.pk).deleted_at is None),
    ],
)
def test_each_report_action_does_what_it_says_and_closes_every_report_of_the_message(action, check):
    game, author, mod = LiveGameFactory(), UserFactory(), moderator()
    message = _post(author, game, "rude")
    for reporter in (UserFactory(), UserFactory()):
        moderation.chat_message_report(user=reporter, message_id=message.pk, reason="spam")
    response = _api(mod).post(
        f"/api/v1/chat/reports/{ChatReport.objects.first().pk}/resolve/", {"action": action, "reason": "rule 3"}
    )
    assert response.status_code == 200, response.json()
    assert check(message)
    assert set(ChatReport.objects.values_list("status", flat=True)) == {
        "dismissed" if action == "dismiss" else "actioned"
    }


def test_report_bad_input_and_limits(settings):
    settings.LIVE_CHAT_REPORTS_PER_HOUR = 1
    game, author, reporter = LiveGameFactory(), UserFactory(), UserFactory()
    first, second = _post(author, game, "one"), _post(author, game, "two")
    api = _api(reporter)
    assert api.post(f"/api/v1/chat/messages/{first.pk}/reports/", {"reason": "nope"}).status_code == 400
    assert api.post("/api/v1/chat/messages/999999/reports/", {"reason": "spam"}).status_code == 404
    assert api.post(f"/api/v1/chat/messages/{first.pk}/reports/", {"reason": "spam"}).status_code == 201
    assert api.post(f"/api/v1/chat/messages/{first.pk}/reports/", {"reason": "spam"}).status_code == 201  # same one
    limited = api.post(f"/api/v1/chat/messages/{second.pk}/reports/", {"reason": "spam"})
    assert (limited.status_code, limited.json()["code"]) == (429, "rate_limited")
    own = _api(author).post(f"/api/v1/chat/messages/{first.pk}/reports/", {"reason": "spam"})
    assert own.json()["code"] == "invalid_report"
    assert ChatReport.objects.count() == 1


def test_settings_changes_and_moderator_actions_are_audited_and_filterable_in_admin(client):
    game, author, mod = LiveGameFactory(), UserFactory(), moderator(is_staff=True)  # the admin is for staff
    message = _post(author, game, "x")
    chat_services.chat_settings_update(actor=mod, game_id=game.pk, slow_mode_seconds=30, reason="heated")
    chat_services.chat_message_delete(actor=mod, message_id=message.pk, reason="spam")
    chat_services.chat_user_mute(actor=mod, game_id=game.pk, user_id=author.pk, minutes=5)
    moderation.chat_user_ban(actor=mod, user_id=author.pk, game_id=None, reason="repeat")
    setting = ModerationAction.objects.get(action="settings_changed")
    assert (setting.actor, setting.game_id, setting.reason) == (mod, game.pk, "heated")
    assert setting.details == {"before": {"slow_mode_seconds": 0}, "after": {"slow_mode_seconds": 30}}
    assert set(ModerationAction.objects.values_list("action", flat=True)) == {
        "settings_changed",
        "message_deleted",
        "user_muted",
        "user_banned",
    }

    client.force_login(mod)
    page = client.get("/admin/streaming/moderationaction/", {"action": "user_banned"})
    assert page.status_code == 200
    assert page.context["cl"].result_count == 1
    viewer = UserFactory()
    client.force_login(viewer)
    assert client.get("/admin/streaming/moderationaction/").status_code in (302, 403)


def test_terms_export_and_import_as_csv_in_admin(client):
    game, mod = LiveGameFactory(), moderator(is_staff=True)
    client.force_login(mod)
    moderation.banned_term_save(actor=mod, term=BannedTerm(term="darn", action="block"))
    exported = client.get("/admin/streaming/bannedterm/export/")
    assert exported["Content-Type"].startswith("text/csv")
    assert exported.content.decode().splitlines() == ["term,is_regex,action,game", "darn,false,block,"]

    from django.core.files.uploadedfile import SimpleUploadedFile

    good = f"term,is_regex,action,game\ndarn,false,hold,\nfr[e3]e,true,block,{game.pk}\n"
    response = client.post("/admin/streaming/bannedterm/import/", {"file": SimpleUploadedFile("t.csv", good.encode())})
    assert response.status_code == 302
    assert sorted(BannedTerm.objects.values_list("term", "action", "game_id")) == [
        ("darn", "hold", None),
        ("fr[e3]e", "block", game.pk),
    ]
    assert ModerationAction.objects.get(action="terms_imported").details == {
        "created": 1,
        "updated": 1,
        "unchanged": 0,
    }

    bad = "term,is_regex,action,game\nok,false,block,\n(broken,true,block,\nx,maybe,zap,\n"
    response = client.post("/admin/streaming/bannedterm/import/", {"file": SimpleUploadedFile("t.csv", bad.encode())})
    page = response.content.decode()
    assert response.status_code == 200
    assert "line 3: The regular expression does not compile" in page
    assert "line 4: is_regex is true or false" in page
    assert BannedTerm.objects.count() == 2  # nothing imported


def test_the_pinned_message_is_in_the_snapshot_and_replies_quote_their_message():
    game, author, fan, mod = LiveGameFactory(), UserFactory(display_name="Ana"), UserFactory(), moderator()
    original = _post(author, game, "what a save")
    reply = _post(fan, game, "agreed", reply_to=original.pk)
    assert error_code(_post, user=fan, game=game, text="x", reply_to=999999) == "invalid_reply"
    assert error_code(_post, user=fan, game=LiveGameFactory(), text="x", reply_to=original.pk) == "invalid_reply"
    response = _api(mod).put(f"/api/v1/games/{game.pk}/chat/pin/", {"message": reply.pk}, format="json")
    assert response.status_code == 200 and response.json()["message"]["id"] == reply.pk
    assert _api(fan).put(f"/api/v1/games/{game.pk}/chat/pin/", {"message": None}, format="json").status_code == 403

    async def scenario():
        reader = await Client().connect()
        snapshot = await reader.request({"type": "subscribe", "topic": f"chat:{game.pk}"})
        pinned = snapshot["data"]["pinned"]
        assert pinned["id"] == reply.pk
        assert pinned["reply_to"] == {
            "id": original.pk,
            "user": {"id": author.pk, "name": "Ana"},
            "text": "what a save",
        }
        await db(_api(mod).put)(f"/api/v1/games/{game.pk}/chat/pin/", {"message": None}, format="json")
        (event,) = await reader.recv_events(1)
        assert (event["name"], event["data"]) == ("chat.pinned", {"message": None})
        await reader.close()

    async_to_sync(scenario)()
    assert ModerationAction.objects.filter(action__in=["message_pinned", "message_unpinned"]).count() == 2


def test_the_admin_report_queue_shows_open_reports_with_context_and_acts_on_them(client):
    game, author, reporter, mod = LiveGameFactory(), UserFactory(), UserFactory(), moderator(is_staff=True)
    _post(author, game, "earlier words")
    message = _post(author, game, "nasty words")
    report = moderation.chat_message_report(user=reporter, message_id=message.pk, reason="abuse")
    client.force_login(mod)
    queue = client.get("/admin/streaming/chatreport/")
    assert queue.status_code == 200 and queue.context["cl"].result_count == 1
    detail = client.get(f"/admin/streaming/chatreport/{report.pk}/change/").content.decode()
    assert "nasty words" in detail and "earlier words" in detail and "1 reports" in detail
    response = client.post(
        "/admin/streaming/chatreport/",
        {"action": "mute_author", "_selected_action": [report.pk], "status__exact": "open"},
    )
    assert response.status_code == 302
    report.refresh_from_db()
    assert (report.status, report.resolution, report.resolved_by) == ("actioned", "mute", mod)
    assert client.get("/admin/streaming/chatreport/").context["cl"].result_count == 0  # the queue is empty


def test_held_messages_are_approved_from_the_admin(client):
    game, author, mod = LiveGameFactory(), UserFactory(), moderator(is_staff=True)
    _hold("ref", mod)
    held = _post(author, game, "the ref!")
    client.force_login(mod)
    client.post("/admin/streaming/chatmessage/", {"action": "approve_held", "_selected_action": [held.pk]})
    held.refresh_from_db()
    assert held.status == "published"
