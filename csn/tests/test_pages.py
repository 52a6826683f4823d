"""What a new user meets first: the home page, and the API's JSON 404 whatever DEBUG is."""

from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings as project_settings
from django.test import Client
from django.utils import timezone

from content.models import Game
from testing.factories import GameFactory, LiveGameFactory

pytestmark = pytest.mark.django_db

NOT_FOUND = {
    "type": "tag:csn,2026:problem/not_found",
    "title": "Not found",
    "status": 404,
    "detail": "Not found.",
    "code": "not_found",
    "fields": {},
    "error": {"code": "not_found", "message": "Not found.", "fields": {}},
}


def test_home_page_links_live_and_upcoming_games_the_api_docs_and_the_admin(client):
    live = LiveGameFactory()
    upcoming = GameFactory(starts_at=timezone.now() + timedelta(days=1))
    final = GameFactory(status=Game.Status.FINAL)
    long_gone = GameFactory(starts_at=timezone.now() - timedelta(days=3))  # scheduled, never played

    response = client.get("/")

    assert response.status_code == 200
    page = response.content.decode()
    assert f'href="/watch/{live.pk}/"' in page
    assert f'href="/watch/{upcoming.pk}/"' in page
    assert f'href="/watch/{final.pk}/"' not in page
    assert f'href="/watch/{long_gone.pk}/"' not in page
    assert page.index(f"/watch/{live.pk}/") < page.index(f"/watch/{upcoming.pk}/")
    assert 'href="/api/docs/"' in page
    assert 'href="/admin/"' in page
    assert 'href="/accounts/sign-in/?next=/"' in page


def test_home_page_without_games_says_how_to_get_some(client):
    assert "seed_demo" in client.get("/").content.decode()


def test_home_page_reads_a_fixed_number_of_queries(client, django_assert_max_num_queries):
    for _ in range(5):
        LiveGameFactory()
        GameFactory(starts_at=timezone.now() + timedelta(hours=2))
    with django_assert_max_num_queries(3):
        assert client.get("/").status_code == 200


@pytest.mark.parametrize("debug", [True, False])
@pytest.mark.parametrize(
    "method, path",
    [
        ("get", "/api/"),
        ("get", "/api/nothing/here"),
        ("get", "/api/v1/nothing/"),
        ("get", "/api/v1/content/not-a-number/"),
        ("get", "/api/v2/content/"),
        ("post", "/api/v1/nothing/"),
        ("delete", "/api/v1/nothing"),
    ],
)
def test_unknown_api_paths_answer_the_json_error_shape(settings, debug, method, path):
    settings.DEBUG = debug
    client = Client(enforce_csrf_checks=True)  # an app's POST carries a token, never a CSRF cookie

    response = getattr(client, method)(path, HTTP_AUTHORIZATION="Token nope")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
    assert response.json() == NOT_FOUND


@pytest.mark.parametrize("debug", [True, False])
def test_an_api_path_missing_its_final_slash_is_still_redirected(client, settings, debug):
    settings.DEBUG = debug

    response = client.get("/api/v1/games?status=live")

    assert response.status_code == 301
    assert response["Location"] == "/api/v1/games/?status=live"


def test_known_api_routes_are_unchanged(client):
    assert client.get("/api/v1/games/").status_code == 200
    assert client.get("/api/docs/").status_code == 200
    assert client.get("/api/v1/content/999999/").json()["error"]["code"] == "not_found"


def test_unknown_pages_outside_the_api_keep_django_behaviour(client, settings):
    settings.DEBUG = False
    assert client.get("/nowhere/").status_code == 404


def test_the_api_docs_describe_the_pagination_the_lists_use():
    """Every list is cursor-paginated (csn.api.pagination); the docs say cursors, never page numbers."""
    assert project_settings.REST_FRAMEWORK["DEFAULT_PAGINATION_CLASS"] == "csn.api.pagination.CursorPagination"
    api_md = (Path(project_settings.BASE_DIR) / "docs" / "api.md").read_text()
    assert "?page=" not in api_md
    assert "cursor" in api_md.split("## Accounts")[0]  # said once, in the conventions
