"""Every message of chat moderation and engagement in the AsyncAPI document is seen in real frames
(test_asyncapi.py's scenario covers the rest of the document)."""

import pytest
from asgiref.sync import async_to_sync
from django.utils import timezone

from streaming.live.models import BannedTerm
from streaming.live.services import engagement, moderation
from streaming.live.services.scores import game_event_record
from streaming.live.tests.factories import moderator, scorekeeper
from streaming.tests import asyncapi
from streaming.tests.live import Client, db, second_start, token_for
from testing.factories import LiveGameFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

REQUESTS = {"chatReport", "reaction", "pollVote", "predictionPick"}
FRAMES = {
    "chatReportAck",
    "reactionAck",
    "pollVoteAck",
    "predictionPickAck",
    "modSnapshot",
    "chatHeld",
    "chatReviewed",
    "chatReported",
    "chatReportResolved",
    "chatPinned",
    "gameReactions",
    "pollOpened",
    "pollCounts",
    "predictionOpened",
    "predictionResolved",
    "chatApprovedNotice",
    "chatRejectedNotice",
    "chatBannedNotice",
}


def test_every_chat_moderation_and_engagement_message_is_seen_in_real_frames():
    game, fan, author, mod, keeper = LiveGameFactory(), UserFactory(), UserFactory(), moderator(), scorekeeper()
    moderation.banned_term_save(actor=mod, term=BannedTerm(term="ref", action=BannedTerm.Action.HOLD))
    fan_key, author_key, mod_key = token_for(fan), token_for(author), token_for(mod)
    sent: list[str] = []

    async def request(client: Client, message: dict) -> dict:
        sent.append(asyncapi.client_frame(message))
        return await client.request(message)

    async def until(client: Client, name: str) -> dict:
        while True:
            frame = await client.recv(4)
            if frame.get("name") == name:
                return frame

    async def scenario():
        moderating = await Client().connect()
        await moderating.request({"type": "auth", "token": mod_key})
        await moderating.request({"type": "subscribe", "topic": f"mod:{game.pk}"})
        viewer = await Client().connect()
        await viewer.request({"type": "auth", "token": fan_key})
        await viewer.request({"type": "subscribe", "topic": f"chat:{game.pk}"})
        await viewer.request({"type": "subscribe", "topic": f"game:{game.pk}"})
        writer = await Client().connect()
        await writer.request({"type": "auth", "token": author_key})

        held = (await writer.request({"type": "chat.send", "game": game.pk, "text": "the ref", "ref": "h1"}))["message"]
        await until(moderating, "chat.held")
        await db(moderation.chat_message_review)(actor=mod, message_id=held["id"], approve=True)
        await until(moderating, "chat.reviewed")
        await until(writer, "chat.approved")
        other = (await writer.request({"type": "chat.send", "game": game.pk, "text": "ref!", "ref": "h2"}))["message"]
        await db(moderation.chat_message_review)(actor=mod, message_id=other["id"], approve=False)
        await until(writer, "chat.rejected")
        await request(viewer, {"type": "chat.report", "message": held["id"], "reason": "spam", "ref": "r"})
        report = await until(moderating, "chat.reported")
        await db(moderation.chat_report_resolve)(actor=mod, report_id=report["data"]["id"], action="ban_game")
        await until(moderating, "chat.report_resolved")
        await until(writer, "chat.banned")
        await db(engagement.chat_message_pin)(actor=mod, game_id=game.pk, message_id=held["id"])
        await until(viewer, "chat.pinned")

        poll = await db(engagement.poll_create)(
            actor=mod,
            game_id=game.pk,
            question="Best player?",
            options=["Ana", "Bo"],
            closes_at=timezone.now() + timezone.timedelta(minutes=5),
        )
        await until(viewer, "poll.opened")
        await request(viewer, {"type": "poll.vote", "poll": poll.pk, "option": 1, "ref": "v"})
        await until(viewer, "poll.counts")
        prediction = await db(engagement.prediction_create)(actor=mod, game_id=game.pk, kind="next_score")
        await until(viewer, "prediction.opened")
        await request(viewer, {"type": "prediction.pick", "prediction": prediction.pk, "choice": "home", "ref": "p"})
        await db(game_event_record)(actor=keeper, game_id=game.pk, home_score=1)
        await until(viewer, "prediction.resolved")
        await second_start()
        await request(viewer, {"type": "reaction", "game": game.pk, "emoji": "🔥", "ref": "x"})
        await until(viewer, "game.reactions")
        for client in (moderating, viewer, writer):
            await client.close()
        return moderating.seen + viewer.seen + writer.seen

    seen = set(async_to_sync(scenario)())
    assert seen >= FRAMES, FRAMES - seen
    assert set(sent) == REQUESTS
    # test_asyncapi's scenario covers the rest of the document
    assert set(asyncapi.server_messages()) | set(asyncapi.client_messages()) >= FRAMES | REQUESTS
