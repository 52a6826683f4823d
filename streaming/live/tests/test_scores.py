"""Scorekeepers post score, clock, status and plays; the game and the play-by-play change together."""

import pytest
from asgiref.sync import async_to_sync
from django.test import Client as HttpClient
from rest_framework.test import APIClient

from content.models import Game
from csn.realtime.models import LiveEvent
from streaming.live.models import GameEvent
from streaming.live.tests.factories import scorekeeper
from streaming.tests.live import Client, db
from testing.factories import LiveGameFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def _api(user) -> APIClient:
    api = APIClient()
    api.force_authenticate(user)
    return api


def test_a_posted_score_updates_the_game_appends_a_play_and_reaches_followers():
    game = LiveGameFactory(status=Game.Status.SCHEDULED)
    api = _api(scorekeeper())

    async def scenario():
        fan = await Client().connect()
        snapshot = await fan.request({"type": "subscribe", "topic": f"game:{game.pk}"})
        assert snapshot["data"]["game"]["status"] == "scheduled"

        def post(body):
            return api.post(f"/api/v1/games/{game.pk}/events/", body)

        went_live = await db(post)({"status": "live", "period": "Q1", "clock": "12:00", "description": "Tip-off"})
        assert went_live.status_code == 201, went_live.content
        scored = await db(post)({"home_score": 2, "description": "Layup by #7"})
        assert scored.json()["game"]["home_score"] == 2
        events = await fan.recv_events(2)
        assert [(e["topic"], e["name"]) for e in events] == [(f"game:{game.pk}", "game.event")] * 2
        assert events[0]["data"]["game"]["status"] == "live"
        last = events[1]
        assert last["data"]["game"]["home_score"] == 2
        assert last["data"]["play"]["description"] == "Layup by #7"
        assert last["data"]["play"]["changed"] == ["home_score"]
        await fan.close()

    async_to_sync(scenario)()
    game.refresh_from_db()
    assert (game.status, game.home_score, game.period, game.clock) == ("live", 2, "Q1", "12:00")
    assert GameEvent.objects.filter(game=game).count() == 2


def test_only_scorekeepers_post_and_bad_input_writes_nothing():
    game = LiveGameFactory()
    refused = _api(UserFactory()).post(f"/api/v1/games/{game.pk}/events/", {"home_score": 1})
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "permission_denied")
    api = _api(scorekeeper())
    bad = api.post(f"/api/v1/games/{game.pk}/events/", {"home_score": -1})
    assert (bad.status_code, bad.json()["error"]["code"]) == (400, "invalid")
    assert "home_score" in bad.json()["error"]["fields"]
    empty = api.post(f"/api/v1/games/{game.pk}/events/", {})
    assert (empty.status_code, empty.json()["error"]["code"]) == (400, "empty_event")
    missing = api.post("/api/v1/games/999999/events/", {"home_score": 1})
    assert missing.status_code == 404
    assert not GameEvent.objects.exists()
    assert not LiveEvent.objects.exists()


def test_status_moves_scheduled_live_final_only():
    game = LiveGameFactory(status=Game.Status.SCHEDULED)
    api = _api(scorekeeper())
    url = f"/api/v1/games/{game.pk}/events/"
    early = api.post(url, {"home_score": 1})
    assert (early.status_code, early.json()["error"]["code"]) == (409, "game_not_live")
    assert api.post(url, {"status": "final"}).json()["error"]["code"] == "invalid_transition"
    assert api.post(url, {"status": "live"}).status_code == 201
    assert api.post(url, {"status": "final", "description": "Final whistle"}).status_code == 201
    again = api.post(url, {"status": "live"})
    assert (again.status_code, again.json()["error"]["code"]) == (409, "invalid_transition")
    game.refresh_from_db()
    assert game.status == "final"


def test_scorekeepers_post_through_admin_with_the_same_rules():
    game = LiveGameFactory()
    keeper = scorekeeper(is_staff=True)
    browser = HttpClient()
    browser.force_login(keeper)
    response = browser.post(
        "/admin/streaming/gameevent/add/",
        {"game": game.pk, "home_score": 3, "away_score": 1, "period": "Q2", "clock": "", "status": ""}
        | {"description": "Three"},
    )
    assert response.status_code == 302, response.content[:500]
    game.refresh_from_db()
    assert (game.home_score, game.away_score, game.period) == (3, 1, "Q2")
    assert GameEvent.objects.get().description == "Three"
    assert LiveEvent.objects.filter(topic=f"game:{game.pk}", name="game.event").count() == 1

    fan = HttpClient()
    fan.force_login(UserFactory(is_staff=True))
    assert fan.get("/admin/streaming/gameevent/add/").status_code == 403


def test_the_game_page_link_opens_the_scorekeeper_form_on_that_game():
    """content's Game admin links here (its score, clock and status are read-only there)."""
    game = LiveGameFactory()
    browser = HttpClient()
    browser.force_login(scorekeeper(is_staff=True))

    page = browser.get(f"/admin/streaming/gameevent/add/?game={game.pk}").content.decode()

    assert f'name="game" value="{game.pk}"' in page
