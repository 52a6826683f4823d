"""Teams, players, games and the workflow endpoint of the API."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from content.models import Content, ContentAuditLog
from content.services.cache import FAMILIES, catalogue_generation
from testing.factories import ContentFactory, GameFactory, PlayerFactory, TeamFactory


def client_for(user=None):
    client = APIClient()
    if user is not None:
        client.force_authenticate(user=user)
    return client


def results(response):
    assert response.status_code == 200, response.content
    return response.json()["results"]


@pytest.mark.django_db
def test_teams_filter_search_order():
    TeamFactory(name="Lakers", sport="basketball")
    TeamFactory(name="Boston Celtics", sport="basketball")
    TeamFactory(name="Ajax", sport="soccer")
    client = client_for()
    assert [t["name"] for t in results(client.get("/api/v1/teams/"))] == ["Ajax", "Boston Celtics", "Lakers"]
    assert [t["name"] for t in results(client.get("/api/v1/teams/", {"sport": "soccer"}))] == ["Ajax"]
    assert [t["name"] for t in results(client.get("/api/v1/teams/", {"search": "celt"}))] == ["Boston Celtics"]
    assert client.get("/api/v1/teams/", {"sport": "curling"}).status_code == 400


@pytest.mark.django_db
def test_players_filter_by_team_and_search():
    lakers, ajax = TeamFactory(name="Lakers"), TeamFactory(name="Ajax", sport="soccer")
    PlayerFactory(team=lakers, name="LeBron James")
    PlayerFactory(team=ajax, name="Jordan Henderson")
    client = client_for()
    rows = results(client.get("/api/v1/players/", {"team": lakers.pk}))
    assert [(p["name"], p["team"]["name"]) for p in rows] == [("LeBron James", "Lakers")]
    # A player carries its team whole, as the team list shows it.
    assert rows[0]["team"] == results(client.get("/api/v1/teams/", {"search": "lakers"}))[0]
    assert [p["name"] for p in results(client.get("/api/v1/players/", {"sport": "soccer"}))] == ["Jordan Henderson"]
    assert {p["name"] for p in results(client.get("/api/v1/players/", {"search": "ajax"}))} == {"Jordan Henderson"}
    assert client.get("/api/v1/players/", {"team": "x"}).status_code == 400


@pytest.mark.django_db
def test_games_filters_by_status_team_and_date():
    now = timezone.now()
    a, b, c = TeamFactory(), TeamFactory(), TeamFactory()
    live = GameFactory(home_team=a, away_team=b, status="live", starts_at=now - timedelta(hours=1))
    tomorrow = GameFactory(home_team=c, away_team=a, starts_at=now + timedelta(days=1))
    other = GameFactory(home_team=b, away_team=c, status="final", starts_at=now - timedelta(days=3))
    client = client_for()

    def game_ids(**params):
        return [g["id"] for g in results(client.get("/api/v1/games/", params))]

    assert game_ids() == [other.pk, live.pk, tomorrow.pk]  # the schedule, soonest first
    assert game_ids(ordering="-starts_at") == [tomorrow.pk, live.pk, other.pk]
    assert game_ids(status="live") == [live.pk]
    assert game_ids(team=a.pk) == [live.pk, tomorrow.pk]
    assert game_ids(date=tomorrow.starts_at.date().isoformat()) == [tomorrow.pk]
    assert game_ids(date_from=now.date().isoformat()) == [
        x.pk for x in (live, tomorrow) if x.starts_at.date() >= now.date()
    ]
    for bad in ({"status": "halftime"}, {"date": "soon"}, {"ordering": "home_score"}):
        response = client.get("/api/v1/games/", bad)
        assert response.status_code == 400 and response.json()["error"]["code"] == "invalid"


@pytest.mark.django_db
def test_game_detail_lists_only_content_the_user_may_see(viewer):
    game = GameFactory(status="live", home_score=54, away_score=50, period="Q3", clock="04:12")
    shown = ContentFactory(game=game, is_premium=True)
    ContentFactory(game=game, state=Content.State.DRAFT)
    body = client_for(viewer).get(f"/api/v1/games/{game.pk}/").json()
    assert (body["status"], body["home_score"], body["period"]) == ("live", 54, "Q3")
    assert body["home_team"]["id"] == game.home_team_id
    assert [(c["id"], c["locked"], "video_url" in c) for c in body["content"]] == [(shown.pk, True, False)]
    assert client_for().get("/api/v1/games/999999/").status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("url", "make"),
    [
        ("/api/v1/teams/", lambda n: TeamFactory.create_batch(n)),
        ("/api/v1/players/", lambda n: PlayerFactory.create_batch(n)),
        ("/api/v1/games/", lambda n: GameFactory.create_batch(n)),
    ],
)
@pytest.mark.parametrize("page_size", [2, 30])
def test_list_query_counts_are_flat(django_assert_num_queries, url, make, page_size):
    make(page_size)
    with django_assert_num_queries(1):
        assert len(results(client_for().get(url, {"page_size": page_size}))) == page_size


@pytest.mark.django_db
def test_game_detail_query_count(django_assert_num_queries):
    game = GameFactory()
    for _ in range(3):
        ContentFactory(game=game, teams=[game.home_team], players=[PlayerFactory(team=game.home_team)])
    catalogue_generation(FAMILIES)  # the next availability edge: one query per catalogue change, not per request
    # game + teams, content, content teams, content players, content images
    with django_assert_num_queries(5):
        assert len(client_for().get(f"/api/v1/games/{game.pk}/").json()["content"]) == 3


@pytest.mark.django_db
@pytest.mark.parametrize("note", ["Cut to two hours", "  Cut to two hours\n"])
def test_the_note_of_every_transition_reaches_the_history(editor, publisher, note):
    item = ContentFactory(state=Content.State.DRAFT)
    url = f"/api/v1/content/{item.pk}/transitions/"
    assert client_for(editor).post(url, {"transition": "submit", "note": note}).status_code == 200
    assert client_for(publisher).post(url, {"transition": "publish", "note": "Lead story"}).status_code == 200
    assert client_for(publisher).post(url, {"transition": "unpublish"}).status_code == 200

    rows = ContentAuditLog.objects.filter(content=item).order_by("id")
    assert [row.note for row in rows] == ["Cut to two hours", "Lead story", ""]


@pytest.mark.django_db
@pytest.mark.parametrize("note", [["a list"], {"a": "dict"}, "x" * 2001])
def test_a_bad_note_is_a_400_with_the_field_named(editor, note):
    item = ContentFactory(state=Content.State.DRAFT)
    url = f"/api/v1/content/{item.pk}/transitions/"
    response = client_for(editor).post(url, {"transition": "submit", "note": note})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid" and "note" in response.json()["error"]["fields"]
    assert not ContentAuditLog.objects.filter(content=item).exists()


@pytest.mark.django_db
def test_transition_endpoint_calls_the_workflow(editor, publisher, viewer):
    item = ContentFactory(state=Content.State.DRAFT)
    url = f"/api/v1/content/{item.pk}/transitions/"
    assert client_for(viewer).post(url, {"transition": "submit"}).status_code == 404  # drafts do not exist for them

    response = client_for(publisher).post(url, {"transition": "submit"})
    assert response.status_code == 403 and response.json()["error"]["code"] == "not_allowed"
    response = client_for(editor).post(url, {"transition": "publish"})
    assert response.status_code == 403
    response = client_for(editor).post(url, {"transition": "teleport"})
    assert response.status_code == 400 and "transition" in response.json()["error"]["fields"]

    assert client_for(editor).post(url, {"transition": "submit"}).json()["state"] == "in_review"
    response = client_for(editor).post(url, {"transition": "submit"})
    assert response.status_code == 400 and response.json()["error"]["code"] == "illegal_transition"
    response = client_for(publisher).post(url, {"transition": "reject"})
    assert response.status_code == 400 and response.json()["error"]["code"] == "reason_required"
    assert client_for(publisher).post(url, {"transition": "publish"}).json()["state"] == "published"
    assert ContentAuditLog.objects.filter(content=item).count() == 2
    # Published items are visible to viewers, who still may not move them.
    assert client_for(viewer).post(url, {"transition": "unpublish"}).status_code == 403


def _generic(serializer, instance) -> dict:
    """What DRF's declared fields make of `instance` (the representation before it was built by hand)."""
    from rest_framework import serializers

    return serializers.ModelSerializer.to_representation(serializer, instance)


@pytest.mark.django_db
@pytest.mark.parametrize("logo", ["", "teams/logo.png"])
@pytest.mark.parametrize("number", [None, 0, 23])
def test_hand_built_teams_players_and_games_equal_what_drfs_fields_make(logo, number):
    from content.api.serializers import (
        GameSerializer,
        PlayerBriefSerializer,
        PlayerSerializer,
        TeamBriefSerializer,
        TeamSerializer,
    )
    from content.models import Game, Player, Team

    home = TeamFactory(logo=logo)
    game = GameFactory(home_team=home, status="live", home_score=54, away_score=50, period="Q3", clock="04:12")
    player = PlayerFactory(team=home, number=number, position="")
    # As the lists load them (from the database), and as made in memory (choices as enum members).
    loaded = [
        (TeamSerializer, Team.objects.get(pk=home.pk)),
        (TeamBriefSerializer, Team.objects.get(pk=home.pk)),
        (PlayerSerializer, Player.objects.select_related("team").get(pk=player.pk)),
        (PlayerBriefSerializer, Player.objects.get(pk=player.pk)),
        (GameSerializer, Game.objects.select_related("home_team", "away_team").get(pk=game.pk)),
        (TeamSerializer, home),
        (PlayerSerializer, player),
        (GameSerializer, game),
    ]
    for serializer_class, instance in loaded:
        serializer = serializer_class(instance)
        built, generic = serializer.data, _generic(serializer, instance)
        assert built == generic, serializer_class
        assert list(built) == list(generic) == list(serializer.fields), serializer_class
    assert (TeamSerializer(home).data["logo_url"] is None) == (not logo)


@pytest.mark.django_db
def test_game_detail_is_the_game_with_its_content(viewer):
    from content.api.serializers import GameDetailSerializer, GameSerializer

    game = GameFactory()
    ContentFactory(game=game)
    body = client_for(viewer).get(f"/api/v1/games/{game.pk}/").json()
    assert list(body) == list(GameDetailSerializer().fields)
    assert {key: body[key] for key in GameSerializer().fields} == results(client_for().get("/api/v1/games/"))[0]


def test_a_filterset_copies_and_validates_only_the_filters_named():
    from content.api.filters import ContentFilter, GameFilter

    named = ContentFilter(data={"type": "clip", "tag": "Goals", "unknown": "x"})
    assert list(named.filters) == ["type", "tag"]
    assert list(named.form.fields) == ["type", "tag"]
    assert named.is_valid() and named.form.cleaned_data == {"type": "clip", "tag": "goals"}
    assert named.filters["tag"].parent is named and named.filters["type"] is not ContentFilter.base_filters["type"]
    # The form class is still every filter's (built once), and an unbound FilterSet has them all.
    assert set(named.get_form_class().base_fields) == set(ContentFilter.base_filters)
    assert list(ContentFilter().filters) == list(ContentFilter.base_filters)
    assert list(ContentFilter(data={}).form.fields) == []

    bad = GameFilter(data={"status": "halftime", "date": "soon", "sport": "basketball"})
    assert not bad.is_valid()
    assert list(bad.errors) == ["status", "date"]
    assert [error.code for error in bad.errors.as_data()["status"]] == ["invalid_choice"]


@pytest.mark.django_db
def test_named_filters_select_what_all_filters_did():
    """The same rows as django-filter's own FilterSet, which validates every filter."""
    import django_filters

    from content.api.filters import GameFilter
    from content.models import Game

    a, b = TeamFactory(), TeamFactory(sport="soccer")
    GameFactory(home_team=a, away_team=TeamFactory(), status="live")
    GameFactory(home_team=b, away_team=TeamFactory(sport="soccer"), sport="soccer")
    stock = type("StockGameFilter", (django_filters.FilterSet,), dict(GameFilter.base_filters, Meta=GameFilter.Meta))
    asks = [{}, {"status": "live"}, {"sport": "soccer"}, {"team": str(a.pk), "status": ""}, {"date": "2020-01-01"}]
    for data in asks:
        ours, theirs = GameFilter(data=data, queryset=Game.objects.all()), stock(data=data, queryset=Game.objects.all())
        assert ours.is_valid() and theirs.is_valid()
        assert list(ours.qs.order_by("pk")) == list(theirs.qs.order_by("pk")), data
