"""POST /api/v1/playback/: what it checks, in order (the item or game, its window, the user's
products, the region, the stream limit), the refusals a player can act on, and the signed address."""

from datetime import timedelta
from urllib.parse import urlsplit
from uuid import uuid4

import pytest
from django.test import override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import VerifiedLocation
from content.models import Content, Game
from streaming.live.models import GameEvent, LiveSession
from streaming.playback.models import Blackout
from testing.factories import (
    ContentFactory,
    GameFactory,
    LiveGameFactory,
    TeamFactory,
    UserFactory,
    holding,
    product_with,
)

pytestmark = pytest.mark.django_db
URL = "/api/v1/playback/"


def api(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def play(user, headers=None, **body):
    return api(user).post(URL, body, format="json", headers=headers or {})


def error(response) -> tuple[int, str]:
    return response.status_code, response.json()["code"]


def test_a_free_item_plays_for_any_signed_in_viewer_with_a_signed_csn_url(viewer):
    item = ContentFactory(video_url="https://cdn.example.com/v/free/master.m3u8")
    response = play(viewer, content_id=item.pk, device="tv")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["url"].startswith("http://testserver/api/v1/playback/manifest/")
    assert "cdn.example.com" not in body["url"]  # the permanent address is never handed out
    assert body["heartbeat_seconds"] == 20 and body["session"]["content"] == item.pk
    session = LiveSession.objects.get(pk=body["session_id"])
    assert (session.user_id, session.content_id, session.playback, session.device) == (viewer.pk, item.pk, True, "tv")
    # the player fetches it without credentials: redirected to the source while the session is open
    fetched = APIClient().get(urlsplit(body["url"]).path)
    assert (fetched.status_code, fetched["Location"]) == (302, item.video_url)


def test_sign_in_required_and_bad_bodies_are_400():
    item = ContentFactory()
    assert error(APIClient().post(URL, {"content_id": item.pk}, format="json")) == (401, "not_authenticated")
    viewer = UserFactory()
    for body in ({}, {"content_id": item.pk, "game_id": 1}, {"content_id": "1"}, {"content_id": 0}):
        assert error(play(viewer, **body)) == (400, "invalid"), body
    assert not LiveSession.objects.exists()


def test_wrong_types_and_huge_ids_are_4xx_with_a_code_and_open_nothing(viewer):
    item = ContentFactory()
    for body in (
        {"content_id": "abc"},
        {"content_id": 2**70},  # past any id the database holds
        {"content_id": 1e30},
        {"content_id": [item.pk]},
        {"content_id": {"id": item.pk}},
        {"content_id": None},
        {"content_id": -1},
        {"game_id": "x"},
        {"content_id": item.pk, "device": ["tv"]},
        {"content_id": item.pk, "device": "x" * 41},
        {"content_id": item.pk, "replace": "not-a-session"},
        {"content_id": item.pk, "replace": 12},
    ):
        assert error(play(viewer, **body)) == (400, "invalid"), body
    for body in ({"content_id": 2**63 - 1}, {"game_id": 2**63 - 1}, {"content_id": item.pk, "replace": str(uuid4())}):
        assert error(play(viewer, **body)) == (404, "not_found"), body
    client = api(viewer)
    for path in ("/api/v1/playback/sessions/123/", f"/api/v1/playback/sessions/{'9' * 40}/heartbeat/"):
        assert (client.post(path).status_code, client.delete(path).status_code) == (404, 404), path
    for token in ("a:" * 60, "abc:def:ghi"):
        assert error(APIClient().get(f"/api/v1/playback/manifest/{token}/")) == (403, "bad_signature")
        assert error(APIClient().get(f"/api/v1/playback/manifest/{token}/seg1.ts")) == (403, "bad_signature")
    assert APIClient().get("/api/v1/playback/manifest/abc/%00.ts").status_code == 404
    assert not LiveSession.objects.exists()


def test_unknown_unpublished_and_windowed_items(viewer):
    now = timezone.now()
    draft = ContentFactory(state=Content.State.DRAFT)
    soon = ContentFactory(available_from=now + timedelta(hours=2))
    gone = ContentFactory(available_until=now - timedelta(minutes=1))
    assert error(play(viewer, content_id=999999)) == (404, "not_found")
    assert error(play(viewer, content_id=draft.pk)) == (404, "not_found")
    refused = play(viewer, content_id=soon.pk)
    assert error(refused) == (403, "not_available_yet")
    assert refused.json()["available_from"] == soon.available_from.isoformat().replace("+00:00", "Z")
    refused = play(viewer, content_id=gone.pk)
    assert error(refused) == (410, "expired") and refused.json()["available_until"]
    no_video = ContentFactory(video_url="")
    assert error(play(viewer, content_id=no_video.pk)) == (409, "not_available_yet")
    assert not LiveSession.objects.exists()  # nothing opened by a refusal


def test_game_live_stream_needs_a_product_and_the_game_on_air(viewer):
    lakers = TeamFactory(sport="basketball")
    game = LiveGameFactory(home_team=lakers, sport="basketball")
    team_pass = product_with({"team_id": lakers.pk}, code="lakers", name="Lakers pass", kind="team_pass")
    product_with({"sport": "hockey"}, code="hockey")
    refused = play(viewer, game_id=game.pk)
    assert error(refused) == (403, "not_entitled")
    codes = [p["code"] for p in refused.json()["products"]]
    assert "lakers" in codes and "premium" in codes and "hockey" not in codes

    fan = holding(UserFactory(), team_pass)
    body = play(fan, game_id=game.pk).json()
    assert body["session"]["game"] == game.pk
    assert APIClient().get(urlsplit(body["url"]).path)["Location"].endswith(".m3u8")

    scheduled = GameFactory(home_team=lakers, status=Game.Status.SCHEDULED)
    refused = play(fan, game_id=scheduled.pk)
    assert error(refused) == (403, "not_available_yet") and refused.json()["starts_at"]
    final = GameFactory(home_team=lakers, status=Game.Status.FINAL)
    assert error(play(fan, game_id=final.pk)) == (410, "expired")
    assert error(play(fan, game_id=999999)) == (404, "not_found")


# --- the entitlement matrix: each kind of rule against items it does and does not match ---------------


@pytest.fixture
def catalogue():
    lakers, celtics, rangers = (
        TeamFactory(sport="basketball"),
        TeamFactory(sport="basketball"),
        TeamFactory(sport="hockey"),
    )
    game = GameFactory(home_team=lakers, away_team=celtics, sport="basketball", status=Game.Status.LIVE)
    items = {
        "lakers_full_game": ContentFactory(is_premium=True, type="full_game", game=game, teams=[lakers, celtics]),
        "celtics_clip": ContentFactory(is_premium=True, type="clip", teams=[celtics]),
        "rangers_highlight": ContentFactory(is_premium=True, type="highlight", teams=[rangers]),
        "free_show": ContentFactory(is_premium=False, type="show"),
    }
    return {"lakers": lakers, "celtics": celtics, "game": game, "items": items}


RULES = {
    "nothing": None,
    "everything": {},
    "basketball": {"sport": "basketball"},
    "lakers": {"team": "lakers"},
    "this_game": {"game": True},
    "clips": {"content_type": "clip"},
    "live_only": {"content_type": "live"},
}
# What each rule unlocks: items by name, and "live" for the game's live stream. Free items: always.
UNLOCKS = {
    "nothing": {"free_show"},
    "everything": {"lakers_full_game", "celtics_clip", "rangers_highlight", "free_show", "live"},
    "basketball": {"lakers_full_game", "celtics_clip", "free_show", "live"},
    "lakers": {"lakers_full_game", "free_show", "live"},
    "this_game": {"lakers_full_game", "free_show", "live"},
    "clips": {"celtics_clip", "free_show"},
    "live_only": {"free_show", "live"},
}


@pytest.mark.parametrize("rule_name", list(RULES))
def test_entitlement_matrix(rule_name, catalogue):
    user = UserFactory()
    rule = RULES[rule_name]
    if rule is not None:
        criteria = {
            "sport": rule.get("sport", ""),
            "team_id": catalogue[rule["team"]].pk if "team" in rule else None,
            "game_id": catalogue["game"].pk if "game" in rule else None,
            "content_type": rule.get("content_type", ""),
        }
        user = holding(user, product_with(criteria))
    listed = {row["id"]: row["locked"] for row in api(user).get("/api/v1/content/").json()["results"]}
    for name, item in catalogue["items"].items():
        expected = name in UNLOCKS[rule_name]
        assert listed[item.pk] is not expected, (rule_name, name)
        response = play(user, content_id=item.pk)
        assert (response.status_code == 201) is expected, (rule_name, name, response.json())
        LiveSession.objects.filter(user=user).delete()  # one stream at a time: free the slot
    response = play(user, game_id=catalogue["game"].pk)
    assert (response.status_code == 201) is ("live" in UNLOCKS[rule_name]), (rule_name, response.json())


def test_union_of_products_and_periods():
    lakers, rangers = TeamFactory(sport="basketball"), TeamFactory(sport="hockey")
    basketball_item = ContentFactory(is_premium=True, teams=[lakers])
    hockey_item = ContentFactory(is_premium=True, teams=[rangers])
    basketball = product_with({"sport": "basketball"})
    hockey = product_with({"sport": "hockey"})
    user = holding(UserFactory(), basketball)
    user = holding(user, hockey, ends_at=timezone.now() - timedelta(seconds=1))  # lapsed
    locked = {r["id"]: r["locked"] for r in api(user).get("/api/v1/content/").json()["results"]}
    assert (locked[basketball_item.pk], locked[hockey_item.pk]) == (False, True)
    user = holding(user, hockey)
    locked = {r["id"]: r["locked"] for r in api(user).get("/api/v1/content/").json()["results"]}
    assert (locked[basketball_item.pk], locked[hockey_item.pk]) == (False, False)


# --- blackouts ---------------------------------------------------------------------------------------


@pytest.fixture
def blacked_out(premium_viewer):
    game = LiveGameFactory()
    Blackout.objects.create(game=game, countries=["CA"], subdivisions=["US-CA"], postal_prefixes=["US:100"])
    return game


HEADERS = {
    "CSN_REGION_COUNTRY_HEADER": "CloudFront-Viewer-Country",
    "CSN_REGION_SUBDIVISION_HEADER": "CloudFront-Viewer-Country-Region",
    "CSN_REGION_POSTAL_HEADER": "CloudFront-Viewer-Postal-Code",
}


def region_headers(country, subdivision="", postal=""):
    return {
        "CloudFront-Viewer-Country": country,
        "CloudFront-Viewer-Country-Region": subdivision,
        "CloudFront-Viewer-Postal-Code": postal,
    }


@override_settings(**HEADERS)
@pytest.mark.parametrize(
    ("region", "blacked"),
    [
        (("CA", "ON", "M5V"), True),  # the country
        (("US", "CA", "94105"), True),  # a subdivision
        (("US", "NY", "10001"), True),  # a postal prefix
        (("US", "NY", "11201"), False),
        (("US", "", ""), False),
        (("MX", "CMX", ""), False),
    ],
)
def test_blackout_by_region_from_the_trusted_cdn_header(blacked_out, premium_viewer, region, blacked):
    response = play(premium_viewer, headers=region_headers(*region), game_id=blacked_out.pk)
    if not blacked:
        assert response.status_code == 201, response.json()
        return
    assert error(response) == (403, "blackout")
    body = response.json()
    assert body["region"] == {"country": region[0], "subdivision": region[1], "postal_code": region[2], "source": "cdn"}
    assert body["replay_opens_at"] is None and body["replay_after_minutes"] == 90  # the game is still on


@override_settings(**HEADERS)
def test_a_malformed_region_header_counts_as_no_region(blacked_out, premium_viewer):
    for country in ("USA", "u", "<b>", ""):
        response = play(premium_viewer, headers=region_headers(country), game_id=blacked_out.pk)
        assert error(response) == (403, "region_unavailable"), country


def test_an_unconfigured_region_header_is_ignored(blacked_out, premium_viewer):
    # No header is trusted: a client claiming to be in Mexico is not believed, and CSN cannot tell.
    response = play(premium_viewer, headers=region_headers("MX"), game_id=blacked_out.pk)
    assert error(response) == (403, "region_unavailable")
    assert not LiveSession.objects.exists()
    # a location the account verified is used instead
    VerifiedLocation.objects.create(user=premium_viewer, country="US", subdivision="CA")
    refused = play(premium_viewer, headers=region_headers("MX"), game_id=blacked_out.pk)
    assert error(refused) == (403, "blackout") and refused.json()["region"]["source"] == "account"
    VerifiedLocation.objects.filter(user=premium_viewer).update(subdivision="OR")
    assert play(premium_viewer, game_id=blacked_out.pk).status_code == 201


@override_settings(**HEADERS)
def test_replays_of_a_blacked_out_game_open_after_the_configured_minutes(blacked_out, premium_viewer):
    replay = ContentFactory(game=blacked_out, type="full_game", is_premium=True)
    in_california = region_headers("US", "CA")
    assert error(play(premium_viewer, headers=in_california, content_id=replay.pk)) == (403, "blackout")
    assert play(premium_viewer, headers=region_headers("US", "OR"), content_id=replay.pk).status_code == 201
    LiveSession.objects.all().delete()

    ended = timezone.now() - timedelta(minutes=30)
    Game.objects.filter(pk=blacked_out.pk).update(status=Game.Status.FINAL)
    event = GameEvent.objects.create(game=blacked_out, status="final", home_score=1, away_score=0)
    GameEvent.objects.filter(pk=event.pk).update(created_at=ended)
    refused = play(premium_viewer, headers=in_california, content_id=replay.pk)
    assert error(refused) == (403, "blackout")
    opens = refused.json()["replay_opens_at"]
    assert opens == (ended + timedelta(minutes=90)).isoformat().replace("+00:00", "Z")

    GameEvent.objects.filter(pk=event.pk).update(created_at=ended - timedelta(minutes=61))
    assert play(premium_viewer, headers=in_california, content_id=replay.pk).status_code == 201
