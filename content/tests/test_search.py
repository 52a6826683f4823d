"""`?search=` on the catalogue: bounded, and on PostgreSQL full-text (content) and trigram (names) search
on indexes; SQLite keeps a simple substring search."""

import pytest
from django.db import connection
from rest_framework.request import Request
from rest_framework.test import APIClient, APIRequestFactory

from content.api import views
from content.models import Content, Game, Player, Team
from content.services.cache import FAMILIES, catalogue_generation
from testing.factories import ContentFactory, GameFactory, PlayerFactory, TeamFactory

LISTS = ["/api/v1/content/", "/api/v1/teams/", "/api/v1/players/", "/api/v1/games/"]
postgresql_only = pytest.mark.skipif(
    "connection.vendor != 'postgresql'",
    reason="full-text and trigram search are PostgreSQL's; the embedded SQLite default searches with "
    "bounded icontains, tested above",
)


def search(path, text):
    return APIClient().get(path, {"search": text})


def found(path, text, key="title"):
    response = search(path, text)
    assert response.status_code == 200, response.content
    return {row[key] for row in response.json()["results"]}


@pytest.mark.django_db
@pytest.mark.parametrize("path", LISTS)
@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("x" * 101, "search_too_long"),
        (" ".join(["goal"] * 9), "search_too_many_terms"),
        (" ".join(f"w{i}" for i in range(5000)), "search_too_long"),  # the probe's thousands of terms
    ],
)
def test_a_search_past_the_bounds_is_a_400_with_a_code(path, text, code, django_assert_max_num_queries):
    catalogue_generation(FAMILIES)  # the cache's availability edge: once per catalogue change
    with django_assert_max_num_queries(0):
        response = search(path, text)

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == code and error["fields"]["search"][0]["code"] == code


@pytest.mark.django_db
@pytest.mark.parametrize("path", LISTS)
def test_a_search_at_the_bounds_is_answered(path):
    assert search(path, "x" * 100).status_code == 200
    assert search(path, " ".join(["goal"] * 8)).status_code == 200
    assert search(path, "!!! ( ) : * & |").status_code == 200  # no words: no search


@pytest.mark.django_db
def test_content_matches_every_word_in_title_or_description():
    ContentFactory(title="Lakers at Celtics", description="A late comeback and overtime goals")
    ContentFactory(title="Celtics training", description="Drills")
    ContentFactory(title="Cooking show", description="Pasta")

    assert found("/api/v1/content/", "celtics") == {"Lakers at Celtics", "Celtics training"}
    assert found("/api/v1/content/", "Celtics COMEBACK") == {"Lakers at Celtics"}
    assert found("/api/v1/content/", "overtime pasta") == set()
    assert found("/api/v1/content/", "goal") == {"Lakers at Celtics"}  # a word's start


@pytest.mark.django_db
def test_names_match_teams_players_and_games():
    celtics, lakers = TeamFactory(name="Boston Celtics"), TeamFactory(name="Los Angeles Lakers")
    PlayerFactory(team=celtics, name="Jayson Tatum")
    PlayerFactory(team=lakers, name="LeBron James")
    GameFactory(home_team=celtics, away_team=lakers, venue="TD Garden")
    GameFactory(home_team=lakers, away_team=TeamFactory(name="Denver Nuggets"), venue="Crypto Arena")

    assert found("/api/v1/teams/", "lakers", "name") == {"Los Angeles Lakers"}
    assert found("/api/v1/players/", "tatum", "name") == {"Jayson Tatum"}
    assert found("/api/v1/players/", "celtics", "name") == {"Jayson Tatum"}  # by team name
    assert found("/api/v1/games/", "garden", "venue") == {"TD Garden"}
    assert found("/api/v1/games/", "lakers", "venue") == {"TD Garden", "Crypto Arena"}
    assert found("/api/v1/games/", "lakers nuggets", "venue") == {"Crypto Arena"}


@postgresql_only
@pytest.mark.django_db
def test_postgresql_stems_words_and_forgives_typos():
    ContentFactory(title="Goal of the season", description="")
    TeamFactory(name="Boston Celtics")

    assert found("/api/v1/content/", "goals") == {"Goal of the season"}  # stemmed, not a substring
    assert found("/api/v1/teams/", "bostn", "name") == {"Boston Celtics"}  # a typo


@postgresql_only
@pytest.mark.django_db
@pytest.mark.parametrize(
    ("model", "name", "index"),
    [
        (Team, "name", "team_name_trgm_idx"),
        (Player, "name", "player_name_trgm_idx"),
        (Game, "venue", "game_venue_trgm_idx"),
    ],
)
def test_postgresql_name_search_can_use_its_trigram_index(model, name, index):
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # tiny test tables: show what the planner can use
    plan = model.objects.filter(**{f"{name}__trigram_word_similar": "celtics"}).order_by().explain()

    assert index in plan, plan


@postgresql_only
@pytest.mark.django_db
def test_postgresql_content_search_can_use_its_document_index():
    request = Request(APIRequestFactory().get("/", {"search": "celtics garden"}))
    search_filter = views.CATALOGUE_FILTERS[1]()
    queryset = search_filter.filter_queryset(request, Content.objects.order_by(), views.ContentListView())
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
    plan = queryset.explain()

    assert "content_search_document_idx" in plan, plan
