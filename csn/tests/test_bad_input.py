"""Bad input reaches a 4xx with a code, never a 500 (the hardening issue): ids past the database's
range in paths and filters, NUL characters in path tokens, JSON nested too deep."""

import pytest
from rest_framework.test import APIClient

from csn.api.parsers import MAX_DEPTH
from testing.factories import ContentFactory

pytestmark = pytest.mark.django_db

TOO_BIG = str(2**63)  # one past a bigint
HUGE = "9" * 40


@pytest.fixture
def staff_client(superuser):
    client = APIClient(raise_request_exception=False)
    client.force_authenticate(user=superuser)
    return client


@pytest.fixture
def viewer_client(viewer):
    client = APIClient(raise_request_exception=False)
    client.force_authenticate(user=viewer)
    return client


ID_PATHS = [
    ("get", "/api/v1/content/{}/"),
    ("post", "/api/v1/content/{}/transitions/"),
    ("get", "/api/v1/games/{}/"),
    ("get", "/api/v1/media/{}/"),
    ("post", "/api/v1/media/{}/confirm/"),
    ("get", "/api/v1/progress/{}/"),
    ("put", "/api/v1/progress/{}/"),
    ("delete", "/api/v1/history/{}/"),
    ("put", "/api/v1/my-list/{}/"),
    ("get", "/api/v1/my-list/{}/"),
    ("get", "/api/v1/playlists/{}/"),
    ("post", "/api/v1/playlists/{}/items/"),
    ("delete", "/api/v1/playlists/1/items/{}/"),
    ("put", "/api/v1/favorites/teams/{}/"),
    ("put", "/api/v1/favorites/players/{}/"),
    ("post", "/api/v1/notifications/{}/read/"),
    ("post", "/api/v1/games/{}/heartbeat/"),
    ("get", "/api/v1/games/{}/chat/"),
    ("delete", "/api/v1/chat/messages/{}/"),
]


@pytest.mark.parametrize("number", [TOO_BIG, HUGE, "0"])
@pytest.mark.parametrize(("method", "path"), ID_PATHS)
def test_an_id_past_the_database_range_is_a_clean_404(staff_client, method, path, number):
    response = getattr(staff_client, method)(path.format(number), {}, format="json")
    assert response.status_code == 404, (path, response.content)
    assert response.json()["error"]["code"] == "not_found"


def test_the_largest_bigint_id_is_an_ordinary_not_found(staff_client):
    response = staff_client.get(f"/api/v1/content/{2**63 - 1}/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("token", ["%00", "abc%00def", "%ED%A0%80", "a" * 65])
def test_a_share_token_with_a_nul_or_a_surrogate_is_a_404(api_client, token):
    response = APIClient(raise_request_exception=False).get(f"/api/v1/playlists/shared/{token}/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize(
    ("path", "param"),
    [
        ("/api/v1/content/", "team"),
        ("/api/v1/content/", "player"),
        ("/api/v1/content/", "game"),
        ("/api/v1/content/", "year"),
        ("/api/v1/games/", "team"),
        ("/api/v1/players/", "team"),
    ],
)
@pytest.mark.parametrize("number", [TOO_BIG, HUGE, "-" + TOO_BIG, "1e400"])
def test_an_id_filter_past_the_database_range_is_a_400(viewer_client, path, param, number):
    ContentFactory()
    response = viewer_client.get(path, {param: number})
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert param in error["fields"]


def test_an_id_filter_in_range_still_filters(viewer_client):
    response = viewer_client.get("/api/v1/content/", {"team": 2**63 - 1})
    assert response.status_code == 200
    assert response.json()["results"] == []


def deep(levels: int) -> str:
    return "[" * levels + "]" * levels


@pytest.mark.parametrize("levels", [MAX_DEPTH + 1, 5_000, 200_000])
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", "/api/v1/playlists/"),
        ("post", "/api/v1/analytics/events/"),
        ("patch", "/api/v1/me/"),
        ("post", "/api/v1/auth/token/"),
    ],
)
def test_json_nested_too_deep_is_a_400_malformed_json(viewer_client, method, path, levels):
    body = '{"events": ' + deep(levels) + "}"
    response = getattr(viewer_client, method)(path, body, content_type="application/json")
    assert response.status_code == 400, response.content
    assert response.json()["error"]["code"] == "malformed_json"


def test_json_nested_within_the_limit_is_parsed(viewer_client):
    body = '{"title": "ok", "shared": false, "x": ' + deep(MAX_DEPTH - 1) + "}"
    response = viewer_client.post("/api/v1/playlists/", body, content_type="application/json")
    assert response.status_code == 201, response.content
