"""Spoiler-safe mode: a held game's result is hidden everywhere it could show, explicitly.

The first test walks the OpenAPI schema: every GET whose answer can carry a score or a result-revealing item
is called as a viewer who holds the game, and the result must not be anywhere in the answer (body or
headers). A new endpoint that carries scores is called too, so it cannot forget the mode; one this test
cannot call (an unknown path parameter) fails it until it learns how.
"""

import re

import pytest
from asgiref.sync import async_to_sync
from django.test import Client as DjangoClient
from rest_framework.test import APIClient

from content.models import Content, Game, GameSpoiler, SpoilerPreference
from content.spoilers import game_spoiler_set, spoiler_preference_set
from streaming.fans.services import favorite_team_add, notify_content_published
from streaming.tests.live import Client
from streaming.viewing.services import my_list_add, playlist_create, playlist_item_add, progress_record
from testing.factories import ContentFactory, GameFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

HOME, AWAY = 97531, 86420  # numbers that appear nowhere else in an answer (ids of a whole run stay below)
RECAP = "Recap: 97531 to 86420"
SCORE_KEYS = {"home_score", "away_score"}
RESULT_KEYS = SCORE_KEYS | {"score_hidden", "spoiler_hidden"}


def _held_world():
    """A final game the viewer holds, a recap that tells its result, and the recap in every list."""
    viewer = UserFactory()
    game = GameFactory(status=Game.Status.FINAL, home_score=HOME, away_score=AWAY)
    recap = ContentFactory(title=RECAP, description=RECAP, game=game, reveals_result=True, type=Content.Type.HIGHLIGHT)
    recap.teams.set([game.home_team])
    spoiler_preference_set(user=viewer, mode=SpoilerPreference.Mode.ALL)
    favorite_team_add(user=viewer, team_id=game.home_team_id)
    notify_content_published(content=recap)
    from django.utils import timezone

    progress_record(
        user=viewer, content_id=recap.pk, position_seconds=30, duration_seconds=600, recorded_at=timezone.now()
    )
    my_list_add(user=viewer, content_id=recap.pk)
    playlist = playlist_create(user=viewer, title="Later", shared=True)
    playlist_item_add(user=viewer, playlist_id=playlist.pk, content_id=recap.pk)
    return viewer, game, recap, playlist


def _properties(schema: dict, components: dict, seen: set) -> set[str]:
    """Every property name an answer of this schema can carry, at any depth."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        if name in seen:
            return set()
        seen.add(name)
        return _properties(components[name], components, seen)
    names = set(schema.get("properties", {}))
    children = list(schema.get("properties", {}).values())
    for key in ("allOf", "oneOf", "anyOf"):
        children += schema.get(key, [])
    for key in ("items", "additionalProperties"):
        if isinstance(schema.get(key), dict):
            children.append(schema[key])
    for child in children:
        names |= _properties(child, components, seen)
    return names


def _answered_components(schema: dict) -> set[str]:
    """The components GET answers can carry (scorekeepers' write answers are not viewers' reads)."""
    seen: set[str] = set()
    for operations in schema["paths"].values():
        answer = operations.get("get", {}).get("responses", {}).get("200", {})
        body = answer.get("content", {}).get("application/json", {}).get("schema")
        if body:
            _properties(body, schema["components"]["schemas"], seen)
    return seen


def _result_operations(schema: dict) -> list[str]:
    components = schema["components"]["schemas"]
    paths = []
    for path, operations in schema["paths"].items():
        answer = operations.get("get", {}).get("responses", {}).get("200", {})
        body = answer.get("content", {}).get("application/json", {}).get("schema")
        if body and _properties(body, components, set()) & RESULT_KEYS:
            paths.append(path)
    return paths


EXPECTED_RESULT_PATHS = {
    "/api/v1/games/",
    "/api/v1/games/{id}/",
    "/api/v1/content/",
    "/api/v1/content/{id}/",
    "/api/v1/continue-watching/",
    "/api/v1/history/",
    "/api/v1/my-list/",
    "/api/v1/notifications/",
    "/api/v1/playlists/{playlist_id}/",
    "/api/v1/playlists/shared/{token}/",
}
SECRETS = (str(HOME), str(AWAY), RECAP)


def _result_urls(schema: dict, ids: dict) -> dict[str, str]:
    """Each GET path that can carry a result, with the held world's objects in it."""
    urls = {}
    for path in _result_operations(schema):
        url = path
        for parameter in re.findall(r"\{(\w+)\}", path):
            owner = [part for part in path.split("/") if part and not part.startswith("{")]
            key = "shared" if "shared" in owner else next((o for o in reversed(owner) if o in ids), None)
            assert key is not None, f"{path}: teach this test which object {{{parameter}}} names"
            url = url.replace("{" + parameter + "}", str(ids[key]), 1)
        urls[path] = url
    return urls


@pytest.mark.parametrize("primed", [False, True], ids=["computed", "cached"])
def test_every_answer_that_can_carry_a_result_hides_it_under_spoiler_safe_mode(primed):
    """`primed`: every answer was first read (and the catalogue's cached, with its ETag) by readers who see
    the result; the held viewer, sending those ETags, still gets hidden answers, none of them shared."""
    viewer, game, recap, playlist = _held_world()
    schema = DjangoClient().get("/api/schema/?format=json").json()
    components = schema["components"]["schemas"]
    for name in _answered_components(schema):  # a viewer's answer with scores must say when they are hidden
        properties = set(components[name].get("properties", {}))
        if properties >= SCORE_KEYS:
            assert "score_hidden" in properties, f"{name} carries scores without score_hidden"
    urls = _result_urls(
        schema, {"games": game.pk, "content": recap.pk, "playlists": playlist.pk, "shared": playlist.share_token}
    )
    seeing = APIClient()
    seeing.force_authenticate(UserFactory())  # signed in, without the mode: the same cache variant as anonymous
    etags = {}
    if primed:
        for url in urls.values():
            for reader in (APIClient(), seeing):
                answer = reader.get(url)
                if answer.status_code == 200 and "ETag" in answer:
                    etags[url] = answer["ETag"]
        assert {urls["/api/v1/games/{id}/"], urls["/api/v1/content/"]} <= set(etags)  # the catalogue is cached
    api = APIClient()
    api.force_authenticate(viewer)
    called = []
    for path, url in urls.items():
        headers = {"HTTP_IF_NONE_MATCH": etags[url]} if url in etags else {}
        response = api.get(url, **headers)
        assert response.status_code == 200, (url, response.status_code, response.content)
        # Every header but the request's random id (32 hex digits that may spell any number).
        text = response.content.decode() + repr({k: v for k, v in response.headers.items() if k != "X-Request-ID"})
        for secret in SECRETS:
            assert secret not in text, f"{url} shows {secret!r}: {text[:300]}"
        assert '"score_hidden":true' in text.replace(" ", "") or '"spoiler_hidden":true' in text.replace(" ", ""), url
        # Never shared, never validated against a spoiling answer: no ETag, private.
        assert "ETag" not in response, url
        assert "public" not in response.get("Cache-Control", ""), url
        called.append(path)
    assert set(called) >= EXPECTED_RESULT_PATHS, EXPECTED_RESULT_PATHS - set(called)
    # A hidden answer was not kept for others: the same reads still show the result to who may see it.
    assert APIClient().get(urls["/api/v1/games/{id}/"]).json()["home_score"] == HOME
    assert RECAP in seeing.get(urls["/api/v1/content/"]).content.decode()
    # The watch page renders the scoreboard before its socket connects: held there too.
    page = DjangoClient()
    page.force_login(viewer)
    html = page.get(f"/watch/{game.pk}/").content.decode()
    assert str(HOME) not in html and 'id="spoiler-safe" checked' in html
    # Search answers through the same lists: held there too.
    for url in ("/api/v1/content/?search=Recap", f"/api/v1/games/?search={game.home_team.name}"):
        if primed:
            seeing.get(url)
        text = api.get(url).content.decode()
        assert str(HOME) not in text and RECAP not in text, url


def test_reveal_lifts_it_for_that_game_and_watching_later_holds_it_without_the_mode():
    viewer, game, _, _ = _held_world()
    api = APIClient()
    api.force_authenticate(viewer)
    revealed = api.put(f"/api/v1/games/{game.pk}/spoiler/", {"state": "revealed"}, format="json")
    assert revealed.json() == {"game": game.pk, "state": "revealed", "score_hidden": False}
    detail = api.get(f"/api/v1/games/{game.pk}/").json()
    assert (detail["home_score"], detail["score_hidden"]) == (HOME, False)
    assert detail["content"][0]["title"] == RECAP
    spoiler_preference_set(user=viewer, mode=SpoilerPreference.Mode.OFF)
    later = api.put(f"/api/v1/games/{game.pk}/spoiler/", {"state": "watch_later"}, format="json").json()
    assert later["score_hidden"] is True
    assert api.get(f"/api/v1/games/{game.pk}/").json()["home_score"] is None
    back = api.put(f"/api/v1/games/{game.pk}/spoiler/", {"state": "default"}, format="json").json()
    assert back == {"game": game.pk, "state": "default", "score_hidden": False}
    assert not GameSpoiler.objects.filter(user=viewer).exists()
    # Someone else, without the mode, sees the result.
    other = APIClient()
    other.force_authenticate(UserFactory())
    assert other.get(f"/api/v1/games/{game.pk}/").json()["home_score"] == HOME


def test_team_mode_holds_only_those_teams_games_and_bad_input_gets_the_error_shape():
    viewer = UserFactory()
    held, free = GameFactory(status=Game.Status.LIVE, home_score=3), GameFactory(status=Game.Status.LIVE, home_score=3)
    api = APIClient()
    api.force_authenticate(viewer)
    answer = api.put("/api/v1/spoilers/", {"mode": "teams", "teams": [held.away_team_id]}, format="json")
    assert answer.json() == {"mode": "teams", "teams": [held.away_team_id]}
    by_id = {g["id"]: g for g in api.get("/api/v1/games/").json()["results"]}
    assert (by_id[held.pk]["home_score"], by_id[held.pk]["score_hidden"]) == (None, True)
    assert (by_id[free.pk]["home_score"], by_id[free.pk]["score_hidden"]) == (3, False)
    for body, code in (
        ({"mode": "teams"}, "teams_required"),
        ({"mode": "teams", "teams": [10**12]}, "unknown_team"),
        ({"mode": "sometimes"}, "invalid"),
        ({"mode": "all", "teams": "x"}, "invalid"),
        ({}, "invalid"),
    ):
        refused = api.put("/api/v1/spoilers/", body, format="json")
        assert (refused.status_code, refused.json()["error"]["code"]) == (400, code), body
    assert api.put("/api/v1/games/999999/spoiler/", {"state": "revealed"}, format="json").status_code == 404
    assert api.put(f"/api/v1/games/{held.pk}/spoiler/", {"state": "peek"}, format="json").status_code == 400
    assert APIClient().get("/api/v1/spoilers/").status_code in (401, 403)


def test_a_held_game_on_the_socket_is_the_game_at_the_stream_start_until_the_viewer_says_where_they_are():
    from datetime import timedelta

    from django.utils import timezone

    from accounts.services import token_issue
    from csn.representation import datetime_text
    from streaming.live.models import Broadcast
    from streaming.live.services.scores import game_event_record
    from streaming.live.tests.factories import scorekeeper

    viewer, keeper = UserFactory(), scorekeeper()
    game = GameFactory(status=Game.Status.SCHEDULED)
    started = timezone.now() - timedelta(minutes=10)
    Broadcast.objects.create(game=game, started_at=started)
    game_event_record(actor=keeper, game_id=game.pk, status="live", occurred_at=started + timedelta(seconds=1))
    game_event_record(actor=keeper, game_id=game.pk, home_score=HOME, description="Goal", occurred_at=timezone.now())
    game_spoiler_set(user=viewer, game_id=game.pk, state=GameSpoiler.State.WATCH_LATER)
    token = token_issue(user=viewer).key

    async def scenario():
        fan, other = await Client().connect(), await Client().connect()
        await fan.request({"type": "auth", "token": token})
        snapshot = await fan.request({"type": "subscribe", "topic": f"game:{game.pk}"})  # align not asked
        assert str(HOME) not in str(snapshot) and snapshot["data"]["game"]["home_score"] == 0
        assert await fan.nothing(0.3)  # the goal is ten minutes ahead of the viewer
        unheld = await other.request({"type": "subscribe", "topic": f"game:{game.pk}"})
        assert unheld["data"]["game"]["home_score"] == HOME  # a viewer without the mode sees it
        await fan.send({"type": "align", "horizon": datetime_text(timezone.now())})
        events = await fan.recv_events(2)
        assert [e["data"]["game"]["home_score"] for e in events] == [0, HOME]  # kick-off, goal: reached, shown
        await fan.close()
        await other.close()

    async_to_sync(scenario)()


def test_a_hidden_item_shows_none_of_its_images(monkeypatch):
    from content.api import serializers

    picture = {"width": 320, "height": 180, "format": "webp", "url": "/media/renditions/the-winning-goal.webp"}
    monkeypatch.setattr(serializers, "content_images", lambda ids: {pk: [picture] for pk in ids})
    viewer, game, recap, _ = _held_world()
    api = APIClient()
    api.force_authenticate(viewer)
    held = api.get(f"/api/v1/content/{recap.pk}/").json()
    assert (held["spoiler_hidden"], held["images"]) == (True, [])
    assert api.get("/api/v1/content/").json()["results"][0]["images"] == []
    assert api.get(f"/api/v1/games/{game.pk}/").json()["content"][0]["images"] == []
    assert APIClient().get(f"/api/v1/content/{recap.pk}/").json()["images"] == [picture]
