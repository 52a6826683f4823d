"""One strictness rule for every JSON body (csn.api.serializers.InputSerializer): a string field refuses
numbers, a number field refuses strings and booleans, a boolean field refuses anything but true/false,
an integer is bounded to a bigint. Each is a 400 `invalid` naming the field, and nothing is written."""

import pytest
from rest_framework.test import APIClient

from streaming.viewing.models import Playlist
from testing.factories import ContentFactory, LiveGameFactory, TeamFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(superuser):
    client = APIClient(raise_request_exception=False)
    client.force_authenticate(user=superuser)
    return client


def field_codes(response, field) -> list[str]:
    assert response.status_code == 400, response.content
    return [e["code"] for e in response.json()["error"]["fields"][field]]


@pytest.mark.parametrize("title", [42, 4.2, True, ["a"], {"a": 1}])
def test_a_playlist_title_sent_as_anything_but_a_string_is_refused(client, title):
    response = client.post("/api/v1/playlists/", {"title": title}, format="json")
    assert field_codes(response, "title") == ["invalid"]
    assert not Playlist.objects.exists()


@pytest.mark.parametrize("shared", ["true", "yes", 1, 0, "1"])
def test_a_boolean_sent_as_anything_but_true_or_false_is_refused(client, shared):
    response = client.post("/api/v1/playlists/", {"title": "Mine", "shared": shared}, format="json")
    assert field_codes(response, "shared") == ["invalid"]


@pytest.mark.parametrize("value", ["12", "12.5", True, [1]])
def test_a_number_sent_as_a_string_or_a_boolean_is_refused(client, value):
    content = ContentFactory()
    body = {"position_seconds": value, "duration_seconds": 100, "recorded_at": "2026-01-01T00:00:00Z"}
    response = client.put(f"/api/v1/progress/{content.pk}/", body, format="json")
    assert field_codes(response, "position_seconds") == ["invalid"]


@pytest.mark.parametrize(
    ("path", "field"), [("/api/v1/favorites/teams/", "team_id"), ("/api/v1/my-list/", "content_id")]
)
@pytest.mark.parametrize(("value", "code"), [("7", "invalid"), (2**63, "max_value"), (10**40, "max_value")])
def test_an_id_sent_as_a_string_or_past_a_bigint_is_refused(client, path, field, value, code):
    response = client.post(path, {field: value}, format="json")
    assert field_codes(response, field) == [code]


def test_list_items_are_strict_too(client):
    playlist = client.post("/api/v1/playlists/", {"title": "Mine"}, format="json").json()
    response = client.put(
        f"/api/v1/playlists/{playlist['id']}/items/order/", {"item_ids": [1, "2", 2**64]}, format="json"
    )
    assert response.status_code == 400, response.content
    fields = response.json()["error"]["fields"]
    assert fields["item_ids.1"][0]["code"] == "invalid"
    assert fields["item_ids.2"][0]["code"] == "max_value"


def test_nested_input_is_strict_too(client):
    response = client.patch("/api/v1/me/", {"preferences": {"autoplay": "false"}}, format="json")
    assert field_codes(response, "preferences.autoplay") == ["invalid"]


def test_a_uuid_sent_as_a_number_is_refused(client):
    game = LiveGameFactory()
    response = client.post(f"/api/v1/games/{game.pk}/heartbeat/", {"session_id": 2**100}, format="json")
    assert field_codes(response, "session_id") == ["invalid"]


def test_a_choice_sent_as_a_number_is_refused(client):
    content = ContentFactory()
    response = client.post(f"/api/v1/content/{content.pk}/transitions/", {"transition": 1}, format="json")
    assert field_codes(response, "transition") == ["invalid"]


def test_a_related_id_past_a_bigint_is_refused(client):
    body = {"filename": "a.mp4", "content_type": "video/mp4", "size_bytes": 10, "content": 2**63}
    response = client.post("/api/v1/media/uploads/", body, format="json")
    assert field_codes(response, "content") == ["incorrect_type"]


def test_well_typed_bodies_still_work(client):
    team = TeamFactory()
    assert client.post("/api/v1/favorites/teams/", {"team_id": team.pk}, format="json").status_code in (200, 201)
    response = client.post("/api/v1/playlists/", {"title": "Mine", "shared": True}, format="json")
    assert response.status_code == 201
    assert client.patch("/api/v1/me/", {"preferences": {"autoplay": False}}, format="json").status_code == 200
