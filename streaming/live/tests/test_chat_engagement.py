"""Reactions (one counts frame a second per game), polls and predictions, with frames intercepted."""

import asyncio
from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync
from django.utils import timezone
from rest_framework.test import APIClient

from analytics.models import OutboxEvent
from content.models import Game
from streaming.live.models import Poll, PollVote, Prediction, PredictionPick, ReactionSecond
from streaming.live.services import engagement
from streaming.live.services.scores import game_event_record
from streaming.live.tests.factories import moderator, scorekeeper
from streaming.tests.live import Client, db, error_code, second_start, token_for
from testing.concurrency import run_together
from testing.factories import GameFactory, LiveGameFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


async def _signed_in(token: str, game_id: int) -> Client:
    client = await Client().connect()
    await client.request({"type": "auth", "token": token})
    await client.request({"type": "subscribe", "topic": f"game:{game_id}"})
    return client


async def _next_named(client: Client, name: str, timeout: float = 4) -> dict:
    while True:
        (event,) = await client.recv_events(1, timeout=timeout)
        if event.get("name") == name:
            return event


def test_reactions_from_many_sockets_arrive_as_one_counts_frame_a_second(outbox_held):
    game = LiveGameFactory()
    tokens = [token_for(UserFactory()) for _ in range(4)]

    async def scenario():
        sockets = [await _signed_in(token, game.pk) for token in tokens]
        await second_start()  # all in one second: one frame
        for socket in sockets:
            await socket.send({"type": "reaction", "game": game.pk, "emoji": "🔥"})
        await sockets[0].send({"type": "reaction", "game": game.pk, "emoji": "👏"})
        frames = [await _next_named(socket, "game.reactions") for socket in sockets]
        assert {f["seq"] for f in frames} == {frames[0]["seq"]}  # one frame, the same for everyone
        assert frames[0]["data"]["counts"] == {"🔥": 4, "👏": 1} and frames[0]["data"]["total"] == 5
        for socket in sockets:  # nothing more: no frame per reaction
            assert await socket.nothing(1.3)
            await socket.close()

    async_to_sync(scenario)()
    (row,) = ReactionSecond.objects.all()
    assert (row.game_id, row.total, row.counts) == (game.pk, 5, {"🔥": 4, "👏": 1})
    # sampled: each user's first reaction to the game this minute
    assert OutboxEvent.objects.filter(name="reaction_sent").count() == 4


def test_reactions_outside_the_set_unsubscribed_or_too_fast_are_refused_and_not_counted(settings):
    settings.LIVE_REACTIONS_PER_SECOND = 2
    game = LiveGameFactory()
    token = token_for(UserFactory())

    async def scenario():
        anonymous = await Client().connect()
        reply = await anonymous.request({"type": "reaction", "game": game.pk, "emoji": "🔥"})
        assert reply["code"] == "auth_required"
        client = await Client().connect()
        await client.request({"type": "auth", "token": token})
        reply = await client.request({"type": "reaction", "game": game.pk, "emoji": "🔥", "ref": 1})
        assert reply["code"] == "not_subscribed"
        await client.request({"type": "subscribe", "topic": f"game:{game.pk}"})
        reply = await client.request({"type": "reaction", "game": game.pk, "emoji": "💩"})
        assert reply["code"] == "invalid_reaction"
        for _ in range(2):
            assert (await client.request({"type": "reaction", "game": game.pk, "emoji": "🎉"}))["type"] == "ack"
        reply = await client.request({"type": "reaction", "game": game.pk, "emoji": "🎉"})
        assert reply["code"] == "rate_limited"
        frame = await _next_named(client, "game.reactions")
        assert frame["data"]["counts"] == {"🎉": 2}
        await anonymous.close()
        await client.close()

    async_to_sync(scenario)()


def test_key_moments_are_listed_for_editors_busiest_first(client):
    game = LiveGameFactory()
    now = timezone.now().replace(microsecond=0)
    for offset, total in [(0, 3), (10, 40), (20, 7)]:
        ReactionSecond.objects.create(
            game=game, second=now + timedelta(seconds=offset), counts={"🔥": total}, total=total
        )
    client.force_login(UserFactory(is_staff=True))
    page = client.get("/admin/streaming/reactionsecond/")
    assert [row.total for row in page.context["cl"].result_list] == [40, 7, 3]


def _poll(game, **kwargs) -> Poll:
    return engagement.poll_create(
        actor=moderator(),
        game_id=game.pk,
        question="Man of the match?",
        options=["Ana", "Bo", "Cy"],
        closes_at=timezone.now() + timedelta(minutes=5),
        **kwargs,
    )


def test_votes_count_once_per_account_and_counts_are_pushed_at_most_once_a_second(outbox_held):
    game = LiveGameFactory()
    poll = _poll(game)
    voters = [UserFactory() for _ in range(3)]
    tokens = [token_for(v) for v in voters]

    async def scenario():
        reader = await Client().connect()
        snapshot = await reader.request({"type": "subscribe", "topic": f"chat:{game.pk}"})
        assert snapshot["data"]["polls"][0]["counts"] == [0, 0, 0]
        sockets = []
        for token in tokens:
            socket = await Client().connect()
            await socket.request({"type": "auth", "token": token})
            sockets.append(socket)
        for index, socket in enumerate(sockets):
            ack = await socket.request({"type": "poll.vote", "poll": poll.pk, "option": index % 2})
            assert ack["type"] == "ack"
        changed = await sockets[0].request({"type": "poll.vote", "poll": poll.pk, "option": 2})
        assert changed["option"] == 2
        frame = await _next_named(reader, "poll.counts")
        assert frame["data"]["counts"] == [1, 1, 1]
        assert await reader.nothing(1.3)
        bad = await sockets[1].request({"type": "poll.vote", "poll": poll.pk, "option": 3})
        assert bad["code"] == "invalid_option"
        mine = await sockets[0].request({"type": "subscribe", "topic": f"chat:{game.pk}"})
        assert mine["data"]["polls"][0]["your_vote"] == 2
        for socket in [reader, *sockets]:
            await socket.close()

    async_to_sync(scenario)()
    assert PollVote.objects.count() == 3
    assert OutboxEvent.objects.filter(name="poll_voted").count() == 4


def test_concurrent_votes_from_one_user_count_once():
    game, voter = LiveGameFactory(), UserFactory()
    poll = _poll(game)
    run_together(4, lambda i: engagement.poll_vote(user=voter, poll_id=poll.pk, option=i % 3))
    assert PollVote.objects.filter(poll=poll).count() == 1


def test_closed_polls_and_bad_polls_are_refused_and_nothing_is_stored():
    game, voter = LiveGameFactory(), UserFactory()
    poll = _poll(game)
    Poll.objects.filter(pk=poll.pk).update(closes_at=timezone.now() - timedelta(seconds=1))
    assert error_code(engagement.poll_vote, user=voter, poll_id=poll.pk, option=0) == "poll_closed"
    assert error_code(engagement.poll_vote, user=voter, poll_id=999999, option=0) == "not_found"
    assert PollVote.objects.count() == 0
    api = APIClient()
    api.force_authenticate(moderator())
    closes = (timezone.now() + timedelta(minutes=1)).isoformat()
    one = api.post(
        f"/api/v1/games/{game.pk}/polls/", {"question": "?", "options": ["a"], "closes_at": closes}, format="json"
    )
    assert one.status_code == 400
    same = api.post(
        f"/api/v1/games/{game.pk}/polls/", {"question": "?", "options": ["a", "a"], "closes_at": closes}, format="json"
    )
    assert same.json()["code"] == "invalid_poll"
    far = {"question": "?", "options": ["a", "b"], "opens_at": "9999-12-31T23:00:00Z", "closes_at": closes}
    assert api.post(f"/api/v1/games/{game.pk}/polls/", far, format="json").json()["code"] == "invalid_poll"
    good = api.post(
        f"/api/v1/games/{game.pk}/polls/",
        {"question": "Who?", "options": ["a", "b"], "closes_at": closes},
        format="json",
    )
    assert good.status_code == 201 and good.json()["counts"] == [0, 0]
    results = api.get(f"/api/v1/polls/{poll.pk}/").json()
    assert (results["open"], results["counts"]) == (False, [0, 0, 0])  # results kept after it closes


def test_predictions_lock_at_kickoff_and_resolve_from_the_play_by_play(outbox_held):
    game = GameFactory(status=Game.Status.SCHEDULED)
    mod, keeper = moderator(), scorekeeper()
    fans = [UserFactory() for _ in range(3)]
    winner = engagement.prediction_create(actor=mod, game_id=game.pk, kind="winner")
    over = engagement.prediction_create(actor=mod, game_id=game.pk, kind="over_under", line=2.5)
    for fan, choice in zip(fans, ["home", "away", "draw"], strict=True):
        engagement.prediction_pick(user=fan, prediction_id=winner.pk, choice=choice)
    engagement.prediction_pick(user=fans[0], prediction_id=over.pk, choice="under")
    assert (
        error_code(engagement.prediction_pick, user=fans[0], prediction_id=winner.pk, choice="maybe")
        == "invalid_choice"
    )

    game_event_record(actor=keeper, game_id=game.pk, status=Game.Status.LIVE)
    assert (
        error_code(engagement.prediction_pick, user=fans[0], prediction_id=winner.pk, choice="away")
        == "prediction_locked"
    )
    next_score = engagement.prediction_create(actor=mod, game_id=game.pk, kind="next_score")
    engagement.prediction_pick(user=fans[1], prediction_id=next_score.pk, choice="away")
    engagement.prediction_pick(user=fans[2], prediction_id=next_score.pk, choice="home")

    async def scenario():
        reader = await Client().connect()
        await reader.request({"type": "subscribe", "topic": f"chat:{game.pk}"})
        await db(game_event_record)(actor=keeper, game_id=game.pk, away_score=1, description="Goal")
        event = await _next_named(reader, "prediction.resolved")
        assert (event["data"]["id"], event["data"]["outcome"]) == (next_score.pk, "away")
        await reader.close()

    async_to_sync(scenario)()
    game_event_record(actor=keeper, game_id=game.pk, away_score=2, status=Game.Status.FINAL)
    winner.refresh_from_db()
    over.refresh_from_db()
    assert (winner.status, winner.outcome, over.outcome) == ("resolved", "away", "under")
    assert dict(PredictionPick.objects.filter(prediction=winner).values_list("user_id", "correct")) == {
        fans[0].pk: False,
        fans[1].pk: True,
        fans[2].pk: False,
    }
    api = APIClient()
    api.force_authenticate(fans[1])
    assert api.get("/api/v1/predictions/record/").json() == {"resolved": 2, "correct": 2, "wrong": 0}
    assert OutboxEvent.objects.filter(name="prediction_made").count() == 6
    assert Prediction.objects.filter(status="open").count() == 0


def test_picks_over_the_socket_and_a_final_game_takes_no_new_prediction():
    game, fan = LiveGameFactory(), UserFactory()
    prediction = engagement.prediction_create(actor=moderator(), game_id=game.pk, kind="next_score")
    token = token_for(fan)

    async def scenario():
        client = await Client().connect()
        refused = await client.request({"type": "prediction.pick", "prediction": prediction.pk, "choice": "home"})
        assert refused["code"] == "auth_required"
        await client.request({"type": "auth", "token": token})
        ack = await client.request({"type": "prediction.pick", "prediction": prediction.pk, "choice": "home"})
        assert (ack["type"], ack["choice"]) == ("ack", "home")
        await client.close()

    async_to_sync(scenario)()
    Game.objects.filter(pk=game.pk).update(status=Game.Status.FINAL)
    assert error_code(engagement.prediction_create, actor=moderator(), game_id=game.pk, kind="winner") == "game_final"


@pytest.fixture(autouse=True)
def _quiet_loop():
    yield
    asyncio.set_event_loop(None)
