"""Concurrent streams at playback: one limit for playback and live presence sessions, per product;
two devices starting at once past the limit (exactly one wins); ending a session from another device
reaches its socket at once and refuses its next heartbeat."""

import functools
import uuid
from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import Entitlement
from accounts.services import token_issue
from csn.errors import ConflictError
from streaming.live.models import LiveSession
from streaming.playback.services import playback_start
from streaming.tests.live import Client, db
from testing.concurrency import at_once
from testing.factories import ContentFactory, LiveGameFactory, TeamFactory, UserFactory, holding, product_with


def api(user=None, key=None) -> APIClient:
    client = APIClient()
    if key:
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    elif user is not None:
        client.force_authenticate(user)
    return client


def play(client, **body):
    return client.post("/api/v1/playback/", body, format="json")


@pytest.mark.django_db
def test_the_limit_is_the_most_any_held_product_allows_and_the_refusal_lists_sessions():
    items = [ContentFactory() for _ in range(4)]
    user = UserFactory()
    client = api(user)
    first = play(client, content_id=items[0].pk, device="tv").json()
    refused = play(client, content_id=items[1].pk, device="phone")
    assert refused.status_code == 409
    error = refused.json()
    assert (error["code"], error["limit"]) == ("stream_limit", 1)
    assert [(s["id"], s["content"], s["device"]) for s in error["sessions"]] == [
        (first["session_id"], items[0].pk, "tv")
    ]

    # a family pass allows three at once; the union takes the most
    user = holding(user, product_with({"sport": "hockey"}, max_streams=3), product_with({}, max_streams=2))
    client = api(user)
    assert play(client, content_id=items[1].pk).status_code == 201
    assert play(client, content_id=items[2].pk).status_code == 201
    assert play(client, content_id=items[3].pk).json()["limit"] == 3


@pytest.mark.django_db
def test_live_presence_and_playback_share_the_limit():
    game, item = LiveGameFactory(), ContentFactory()
    user = UserFactory()
    client = api(user)
    assert client.post(f"/api/v1/games/{game.pk}/heartbeat/", {}, format="json").status_code == 200
    refused = play(client, content_id=item.pk)
    assert refused.json()["code"] == "stream_limit"
    presence = refused.json()["sessions"][0]
    assert (presence["game"], presence["playback"]) == (game.pk, False)
    # replacing it: that one ends, this one starts
    started = play(client, content_id=item.pk, replace=presence["id"])
    assert started.status_code == 201
    assert LiveSession.objects.get(pk=presence["id"]).ended_reason == "replaced"


@pytest.mark.django_db
def test_heartbeats_keep_a_session_alive_until_it_goes_silent():
    item = ContentFactory()
    user = UserFactory()
    client = api(user)
    session = play(client, content_id=item.pk).json()["session_id"]
    url = f"/api/v1/playback/sessions/{session}/heartbeat/"
    assert client.post(url).status_code == 200
    assert api(UserFactory()).post(url).json()["code"] == "not_found"  # not theirs
    LiveSession.objects.filter(pk=session).update(last_heartbeat_at=timezone.now() - timedelta(minutes=1))
    response = client.post(url)
    assert (response.status_code, response.json()["code"]) == (410, "session_expired")
    assert play(client, content_id=item.pk).status_code == 201  # a silent session no longer counts


@pytest.mark.django_db(transaction=True)
def test_two_devices_starting_at_once_with_a_limit_of_one_exactly_one_wins():
    items = [ContentFactory(), ContentFactory()]
    user = UserFactory()

    def start(item):
        try:
            playback_start(user=type(user).objects.get(pk=user.pk), region=lambda: None, content_id=item.pk)
        except ConflictError as exc:
            return exc.code
        return "started"

    results = at_once(*(functools.partial(start, item) for item in items))
    assert sorted(results) == ["started", "stream_limit"], results
    assert LiveSession.objects.filter(user=user, ended_at=None).count() == 1


@pytest.mark.django_db(transaction=True)
def test_ending_a_playback_from_another_device_reaches_its_socket_and_refuses_its_heartbeat():
    item = ContentFactory()
    user = UserFactory()
    key = token_issue(user=user).key

    async def scenario():
        player_socket = await Client().connect()
        assert (await player_socket.request({"type": "auth", "token": key}))["type"] == "ack"
        started = await db(play)(api(key=key), content_id=item.pk, device="tv")
        session = started.json()["session_id"]
        listed = await db(api(key=key).get)("/api/v1/playback/sessions/")
        assert [s["id"] for s in listed.json()] == [session]

        phone = api(key=key)
        assert (await db(phone.delete)(f"/api/v1/playback/sessions/{session}/")).status_code == 204
        notice = await player_socket.recv(timeout=2)
        assert notice == {
            "type": "notice",
            "name": "session.ended",
            "data": {"session": session, "game": None, "content": item.pk, "reason": "ended"},
        }
        beat = await db(api(key=key).post)(f"/api/v1/playback/sessions/{session}/heartbeat/")
        assert (beat.status_code, beat.json()["code"]) == (409, "session_ended")
        assert (await db(phone.delete)(f"/api/v1/playback/sessions/{session}/")).status_code == 404
        await player_socket.close()

    async_to_sync(scenario)()


@pytest.mark.django_db(transaction=True)
def test_a_watch_page_socket_keeps_its_players_live_session_alive_instead_of_opening_another():
    game = LiveGameFactory()
    user = holding(UserFactory(), product_with({}))
    key = token_issue(user=user).key

    async def scenario():
        started = await db(play)(api(key=key), game_id=game.pk)
        session = started.json()["session_id"]
        socket = await Client().connect()
        assert (await socket.request({"type": "auth", "token": key}))["type"] == "ack"
        beat = await socket.request({"type": "heartbeat", "game": game.pk, "session": session})
        assert beat == {"type": "ack", "status": "ok", "ref": None, "session": session}
        again = await socket.request({"type": "heartbeat", "game": game.pk})
        assert again["session"] == session
        bad = await socket.request({"type": "heartbeat", "game": game.pk, "session": 7})
        assert bad["code"] == "invalid_message"
        await socket.close()

    async_to_sync(scenario)()
    assert LiveSession.objects.filter(user=user).count() == 1


@pytest.mark.django_db
def test_the_limit_counts_only_products_in_force():
    items = [ContentFactory() for _ in range(3)]
    family = product_with({}, max_streams=3)
    user = holding(UserFactory(), family, ends_at=timezone.now() - timedelta(seconds=1))  # lapsed
    client = api(user)
    assert play(client, content_id=items[0].pk).status_code == 201
    assert play(client, content_id=items[1].pk).json()["limit"] == 1  # CSN_STREAM_LIMIT_WITHOUT_PRODUCT
    user = holding(user, family)
    assert play(api(user), content_id=items[1].pk).status_code == 201
    # a revoked entitlement no longer counts: the open sessions stay, a new one past the limit is refused
    Entitlement.objects.filter(user=user).update(revoked_at=timezone.now())
    assert play(api(user), content_id=items[2].pk).json()["limit"] == 1


@pytest.mark.django_db
def test_ending_or_replacing_someone_elses_session_is_not_found_and_opens_nothing():
    item = ContentFactory()
    owner, intruder = UserFactory(), UserFactory()
    theirs = play(api(owner), content_id=item.pk).json()["session_id"]
    mine = play(api(intruder), content_id=item.pk).json()["session_id"]
    url = f"/api/v1/playback/sessions/{theirs}/"

    assert api().delete(url).status_code == 401
    response = api(intruder).delete(url)
    assert (response.status_code, response.json()["code"]) == (404, "not_found")
    response = play(api(intruder), content_id=item.pk, replace=theirs)
    assert (response.status_code, response.json()["code"]) == (404, "not_found")
    assert api(intruder).post(f"{url}heartbeat/").status_code == 404
    assert api(intruder).delete("/api/v1/playback/sessions/not-a-uuid/").status_code == 404
    assert set(LiveSession.objects.filter(ended_at=None).values_list("pk", flat=True)) == {
        uuid.UUID(theirs),
        uuid.UUID(mine),
    }


@pytest.mark.django_db(transaction=True)
def test_five_devices_starting_at_once_with_a_limit_of_two_exactly_two_win():
    items = [ContentFactory() for _ in range(5)]
    user = holding(UserFactory(), product_with({}, max_streams=2))

    def start(item):
        try:
            playback_start(user=type(user).objects.get(pk=user.pk), region=lambda: None, content_id=item.pk)
        except ConflictError as exc:
            return exc.code
        return "started"

    results = at_once(*(functools.partial(start, item) for item in items))
    assert sorted(results) == ["started"] * 2 + ["stream_limit"] * 3, results
    assert LiveSession.objects.filter(user=user, ended_at=None).count() == 2


# --- per product: a playback counts against the product, among those granting it, allowing the most ----


def _passes():
    """A hockey team pass (1 stream) and a basketball league pass (3 streams), and items only the team
    pass unlocks, only the league pass unlocks, both unlock, and a free one."""
    rangers, lakers = TeamFactory(sport="hockey"), TeamFactory(sport="basketball")
    team_pass = product_with({"team_id": rangers.pk}, code="team", max_streams=1)
    league_pass = product_with({"sport": "basketball"}, code="league", max_streams=3)
    team_only = [ContentFactory(is_premium=True, teams=[rangers]) for _ in range(3)]
    league_only = [ContentFactory(is_premium=True, teams=[lakers]) for _ in range(3)]
    both = ContentFactory(is_premium=True, teams=[rangers, lakers])  # a game between the two
    return team_pass, league_pass, team_only, league_only, both


def _refusal(response) -> tuple:
    body = response.json()
    assert (response.status_code, body["code"]) == (409, "stream_limit"), body
    return body["limit"], (body["product"] or {}).get("code"), sorted(s["id"] for s in body["sessions"])


@pytest.mark.django_db
def test_each_product_carries_its_own_streams_and_a_playback_counts_against_the_best_that_grants_it():
    team_pass, league_pass, team_only, league_only, both = _passes()
    user = holding(UserFactory(), team_pass, league_pass)
    client = api(user)
    team_game = play(client, content_id=team_only[0].pk).json()["session_id"]
    # only the team pass unlocks it: its one stream is taken, whatever the league pass allows
    assert _refusal(play(client, content_id=team_only[1].pk)) == (1, "team", [team_game])
    # the league pass's three: an item both unlock counts there (it allows more), a free item too
    league = [play(client, content_id=i.pk).json()["session_id"] for i in (league_only[0], both, ContentFactory())]
    assert LiveSession.objects.filter(user=user, ended_at=None).count() == 4
    assert _refusal(play(client, content_id=league_only[1].pk)) == (3, "league", sorted(league))
    # ending a session counted against the team pass makes room there only
    assert client.delete(f"/api/v1/playback/sessions/{team_game}/").status_code == 204
    assert _refusal(play(client, content_id=league_only[1].pk))[:2] == (3, "league")
    second_team_game = play(client, content_id=team_only[1].pk)
    assert second_team_game.status_code == 201
    # replacing a session of another product's streams makes no room here: refused, nothing ended
    refused = play(client, content_id=team_only[2].pk, replace=league[0])
    assert _refusal(refused) == (1, "team", [second_team_game.json()["session_id"]])
    assert LiveSession.objects.get(pk=league[0]).ended_at is None
    # replacing one counted against the same product does
    assert play(client, content_id=league_only[1].pk, replace=league[0]).status_code == 201
    assert LiveSession.objects.get(pk=league[0]).ended_reason == "replaced"


@pytest.mark.django_db
def test_what_needs_no_product_counts_against_the_best_pool_the_accounts_own_allowance_included(settings):
    settings.CSN_STREAM_LIMIT_WITHOUT_PRODUCT = 2
    team_pass, _league_pass, team_only, _league_only, _both = _passes()
    user = holding(UserFactory(), team_pass)
    client = api(user)
    team_game = play(client, content_id=team_only[0].pk).json()["session_id"]
    free = [play(client, content_id=ContentFactory().pk).json()["session_id"] for _ in range(2)]
    assert _refusal(play(client, content_id=ContentFactory().pk)) == (2, None, sorted(free))
    assert _refusal(play(client, content_id=team_only[1].pk)) == (1, "team", [team_game])
    # a game's chat presence (no product grants its stream here) counts like a free item
    LiveSession.objects.filter(pk=free[0]).update(ended_at=timezone.now())
    LiveSession.objects.create(user=user, game=LiveGameFactory(), last_heartbeat_at=timezone.now())
    limit, product, sessions = _refusal(play(client, content_id=ContentFactory().pk))
    assert (limit, product, len(sessions)) == (2, None, 2)


@pytest.mark.django_db
def test_an_item_whose_product_lapsed_while_it_played_counts_like_a_free_one():
    team_pass, league_pass, team_only, league_only, _both = _passes()
    user = holding(UserFactory(), team_pass, league_pass)
    client = api(user)
    playing = play(client, content_id=team_only[0].pk).json()["session_id"]
    Entitlement.objects.filter(user=user, product=team_pass).update(revoked_at=timezone.now())
    user = type(user).objects.get(pk=user.pk)
    for item in league_only[:2]:
        assert play(api(user), content_id=item.pk).status_code == 201
    assert _refusal(play(api(user), content_id=league_only[2].pk))[:2] == (3, "league")
    assert playing in _refusal(play(api(user), content_id=league_only[2].pk))[2]


@pytest.mark.django_db(transaction=True)
def test_two_devices_starting_at_once_on_a_product_of_one_stream_exactly_one_wins_per_product():
    team_pass, league_pass, team_only, league_only, _both = _passes()
    user = holding(UserFactory(), team_pass, league_pass)
    assert play(api(user), content_id=league_only[0].pk).status_code == 201  # one of the league pass's three

    def start(item):
        try:
            playback_start(user=type(user).objects.get(pk=user.pk), region=lambda: None, content_id=item.pk)
        except ConflictError as exc:
            return exc.code
        return "started"

    # two team-only items at once (the team pass allows one) and two league items (two left): one and two win
    results = at_once(*(functools.partial(start, item) for item in [*team_only[:2], *league_only[1:3]]))
    assert sorted(results[:2]) == ["started", "stream_limit"], results
    assert results[2:] == ["started", "started"], results
    assert LiveSession.objects.filter(user=user, ended_at=None).count() == 4
