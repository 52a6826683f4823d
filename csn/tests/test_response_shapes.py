"""Answers that the schemathesis run does not reach with its identities (a scorekeeper's game event, a
moderator's mute, a registration) validated against the committed schema's response components."""

import pytest
from openapi_schema_validator import OAS30Validator
from rest_framework.test import APIClient

from csn.api.contract import committed_schema
from streaming.live.tests.factories import scorekeeper
from testing.factories import LiveGameFactory, UserFactory, member_of

pytestmark = pytest.mark.django_db


def assert_documented(path: str, method: str, response) -> None:
    schema = committed_schema()
    documented = schema["paths"][path][method]["responses"][str(response.status_code)]
    content = documented["content"]["application/json"]["schema"]
    validator = OAS30Validator({**content, "components": schema["components"]})
    errors = [f"{'.'.join(map(str, e.path))}: {e.message}" for e in validator.iter_errors(response.json())]
    assert not errors, errors


def _client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_a_game_event_answers_its_documented_game_and_play():
    game = LiveGameFactory()
    response = _client(scorekeeper()).post(
        f"/api/v1/games/{game.pk}/events/", {"home_score": 2, "clock": "10:00"}, format="json"
    )

    assert response.status_code == 201
    assert_documented("/api/v1/games/{game_id}/events/", "post", response)
    assert response.json()["play"]["changed"] == ["home_score", "clock"]


def test_a_mute_answers_its_documented_body():
    game, viewer = LiveGameFactory(), UserFactory()
    moderator = member_of("Moderators", is_staff=True)
    response = _client(moderator).post(
        f"/api/v1/games/{game.pk}/chat/mutes/", {"user": viewer.pk, "minutes": 5}, format="json"
    )

    assert response.status_code == 201
    assert_documented("/api/v1/games/{game_id}/chat/mutes/", "post", response)
    assert response.json()["user"] == viewer.pk


def test_registration_documents_the_token_it_answers():
    body = {"email": "new@example.com", "password": "a long enough password 42", "display_name": "New"}
    response = APIClient().post("/api/v1/auth/register/", body, format="json")

    assert response.status_code == 201
    assert_documented("/api/v1/auth/register/", "post", response)
    assert response.json()["token"]


def test_an_error_answers_the_problem_component(auth_client):
    response = auth_client.get("/api/v1/progress/1/")

    assert_documented("/api/v1/progress/{content_id}/", "get", response)
