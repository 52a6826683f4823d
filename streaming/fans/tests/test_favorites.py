import pytest

from streaming.fans.models import FavoritePlayer, FavoriteTeam
from testing.factories import PlayerFactory, TeamFactory

pytestmark = pytest.mark.django_db


def test_follow_a_team_idempotently_and_list(auth_client, user):
    team = TeamFactory()

    first = auth_client.post("/api/v1/favorites/teams/", {"team_id": team.pk}, format="json")
    second = auth_client.post("/api/v1/favorites/teams/", {"team_id": team.pk}, format="json")

    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["team"]["name"] == team.name
    assert FavoriteTeam.objects.filter(user=user).count() == 1
    listing = auth_client.get("/api/v1/favorites/teams/").json()
    assert [f["team"]["id"] for f in listing["results"]] == [team.pk]
    assert listing["results"][0]["team"] == auth_client.get("/api/v1/teams/").json()["results"][0]


def test_unfollow_a_team_idempotently(auth_client, user):
    team = TeamFactory()
    auth_client.post("/api/v1/favorites/teams/", {"team_id": team.pk}, format="json")

    assert auth_client.delete(f"/api/v1/favorites/teams/{team.pk}/").status_code == 204
    assert auth_client.delete(f"/api/v1/favorites/teams/{team.pk}/").status_code == 204
    assert not FavoriteTeam.objects.exists()


def test_follow_a_player(auth_client, user):
    player = PlayerFactory()

    response = auth_client.post("/api/v1/favorites/players/", {"player_id": player.pk}, format="json")

    assert response.status_code == 201
    assert response.json()["player"]["team"]["id"] == player.team_id
    listing = auth_client.get("/api/v1/favorites/players/").json()
    assert [f["player"]["id"] for f in listing["results"]] == [player.pk]
    assert listing["results"][0]["player"] == auth_client.get("/api/v1/players/").json()["results"][0]
    assert auth_client.delete(f"/api/v1/favorites/players/{player.pk}/").status_code == 204
    assert not FavoritePlayer.objects.exists()


@pytest.mark.parametrize(
    ("url", "body", "status"),
    [
        ("/api/v1/favorites/teams/", {"team_id": 999999}, 404),
        ("/api/v1/favorites/teams/", {"team_id": "x"}, 400),
        ("/api/v1/favorites/teams/", {}, 400),
        ("/api/v1/favorites/players/", {"player_id": 999999}, 404),
        ("/api/v1/favorites/players/", {"player_id": -3}, 400),
    ],
)
def test_bad_follow_writes_nothing(auth_client, url, body, status):
    response = auth_client.post(url, body, format="json")
    assert response.status_code == status
    assert "error" in response.json()
    assert not FavoriteTeam.objects.exists()
    assert not FavoritePlayer.objects.exists()


def test_favorites_are_per_user(auth_client, other_client, user):
    team = TeamFactory()
    auth_client.post("/api/v1/favorites/teams/", {"team_id": team.pk}, format="json")

    assert other_client.get("/api/v1/favorites/teams/").json()["results"] == []
    other_client.delete(f"/api/v1/favorites/teams/{team.pk}/")
    assert FavoriteTeam.objects.filter(user=user).count() == 1


def test_favorites_list_query_count(auth_client, django_assert_num_queries):
    for _ in range(5):
        auth_client.post("/api/v1/favorites/players/", {"player_id": PlayerFactory().pk}, format="json")
    with django_assert_num_queries(1):
        assert len(auth_client.get("/api/v1/favorites/players/").json()["results"]) == 5


def test_anonymous_is_refused(api_client):
    assert api_client.get("/api/v1/favorites/teams/").status_code in (401, 403)
