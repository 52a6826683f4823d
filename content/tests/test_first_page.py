"""First pages of catalogue lists as constant statements (content.api.first_page): the same answers as
the ORM's way, and the ORM's way for everything else."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from content.api import first_page
from content.models import Content
from csn.statements import Statement
from testing.factories import ContentFactory, GameFactory, PlayerFactory, TeamFactory


@pytest.fixture
def catalogue(db):
    now = timezone.now()
    hawks, suns = TeamFactory(name="Hawks"), TeamFactory(name="Suns")
    rovers = TeamFactory(name="Rovers", sport="soccer")
    for team in (hawks, suns, rovers):
        PlayerFactory.create_batch(2, team=team, position="Guard")
    games = [
        GameFactory(home_team=hawks, away_team=suns, status="final", starts_at=now - timedelta(days=2)),
        GameFactory(home_team=suns, away_team=hawks, status="live", starts_at=now - timedelta(hours=1)),
        GameFactory(home_team=rovers, away_team=TeamFactory(sport="soccer"), sport="soccer", starts_at=now),
    ]
    for i in range(7):
        ContentFactory(
            type="highlight" if i % 2 else "clip",
            year=2020 + i % 3,
            is_premium=i % 3 == 0,
            game=games[i % 3],
            teams=[hawks if i % 2 else rovers],
            tags=["goals"] if i % 2 else [],
            published_at=now - timedelta(hours=i),
        )
    ContentFactory(state=Content.State.DRAFT, teams=[hawks])
    ContentFactory(available_from=now + timedelta(minutes=30), teams=[hawks])
    ContentFactory(available_until=now + timedelta(hours=1), teams=[hawks])
    return {"hawks": hawks, "rovers": rovers}


def _answers(client, url, monkeypatch):
    """The answer by the statement, and by the ORM's way (the statement path turned off)."""
    statement = client.get(url)
    with monkeypatch.context() as patch:
        patch.setattr(first_page.FirstPageStatementMixin, "_first_page", lambda self, request: None)
        orm = client.get(url)
    return statement, orm


URLS = [
    "/api/v1/content/",
    "/api/v1/content/?page_size=3",
    "/api/v1/content/?type=highlight",
    "/api/v1/content/?type=clip&premium=true",
    "/api/v1/content/?premium=false&page_size=2",
    "/api/v1/content/?team={hawks}",
    "/api/v1/content/?team={hawks}&type=highlight&state=published",
    "/api/v1/content/?game_status=live",
    "/api/v1/content/?tag=goals",
    "/api/v1/content/?tag=%20GOALS%20&type=highlight",
    "/api/v1/teams/",
    "/api/v1/teams/?sport=soccer",
    "/api/v1/teams/?page_size=2",
    "/api/v1/players/",
    "/api/v1/players/?team={rovers}&position=guard",
    "/api/v1/players/?sport=basketball&page_size=3",
    "/api/v1/games/",
    "/api/v1/games/?status=live",
    "/api/v1/games/?sport=soccer&page_size=1",
    "/api/v1/games/?team={hawks}",
    "/api/v1/games/?team={hawks}&status=final",
]
# A date is a marker where the database receives it as the cleaned date (PostgreSQL), not where it is
# sent as text (SQLite): by statement or not, the same answer.
EITHER_WAY = [
    "/api/v1/games/?date_from=2020-01-01",
    "/api/v1/games/?team={hawks}&date_to=2100-01-01",
    "/api/v1/content/?published_from=2020-01-01&type=clip",
]
ORM_WAY = [
    "/api/v1/content/?year=2021",  # cleaned to a decimal, received as an integer
    "/api/v1/content/?ordering=title",
    "/api/v1/content/?search=item",
    "/api/v1/content/?unknown=1",
]


@pytest.mark.parametrize("who", ["anonymous", "viewer", "editor"])
def test_a_first_page_is_the_same_by_statement_as_by_the_orm(catalogue, who, request, monkeypatch):
    client = APIClient()
    if who != "anonymous":
        client.force_authenticate(request.getfixturevalue(who))
    runs = []
    real_run = Statement.run
    monkeypatch.setattr(Statement, "run", lambda self, *values: runs.append(self) or real_run(self, *values))
    for url in [u.format(**{k: v.pk for k, v in catalogue.items()}) for u in URLS]:
        runs.clear()
        statement, orm = _answers(client, url, monkeypatch)
        assert statement.status_code == orm.status_code == 200, (url, statement.content)
        assert statement.json() == orm.json(), url
        assert len(runs) == 1, url  # the statement answered (the ORM's way runs none)
        assert statement.json()["results"], url
    for url in [u.format(**{k: v.pk for k, v in catalogue.items()}) for u in EITHER_WAY]:
        statement, orm = _answers(client, url, monkeypatch)
        assert statement.status_code == orm.status_code == 200, (url, statement.content)
        assert statement.json() == orm.json() and statement.json()["results"], url


def test_everything_else_takes_the_orms_way(catalogue, monkeypatch):
    runs = []
    monkeypatch.setattr(Statement, "run", lambda self, *values: runs.append(self))
    client = APIClient()
    for url in [u.format(**{k: v.pk for k, v in catalogue.items()}) for u in ORM_WAY]:
        assert client.get(url).status_code == 200, url
    first = client.get("/api/v1/content/?page_size=2").json()
    runs.clear()
    assert client.get(first["next"]).status_code == 200  # a later page
    for bad in ["/api/v1/content/?type=movie", "/api/v1/games/?status=halftime", "/api/v1/teams/?sport=curling"]:
        response = client.get(bad)
        assert response.status_code == 400 and response.json()["error"]["code"] == "invalid"
    assert runs == []


def test_the_time_bound_is_the_request_time(catalogue, monkeypatch):
    """One statement serves every request of its shape; each brings its own time (availability edges)."""
    client = APIClient()
    before = {row["id"] for row in client.get("/api/v1/content/?page_size=50").json()["results"]}
    real = timezone.now
    monkeypatch.setattr(timezone, "now", lambda: real() + timedelta(minutes=90))
    after = {row["id"] for row in client.get("/api/v1/content/?page_size=50").json()["results"]}
    later = Content.objects.get(available_from__isnull=False).pk
    ending = Content.objects.get(available_until__isnull=False).pk
    assert later not in before and ending in before
    assert after == before - {ending} | {later}
