"""Every API error is an RFC 9457 problem: type, title, status, detail, plus code and fields (field errors
only), other data in members of their own, and the v1.0 `error` member kept (deprecated)."""

import pytest

from csn.api.errors import problem_content_type
from csn.errors import ConflictError

pytestmark = pytest.mark.django_db

PROBLEM_MEMBERS = {"type", "title", "status", "detail", "code", "fields", "error"}


def test_a_validation_error_is_a_problem_with_field_errors_only(auth_client):
    response = auth_client.post("/api/v1/playlists/", {"title": 42}, format="json")

    body = response.json()
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert set(body) == PROBLEM_MEMBERS
    assert body["type"] == "tag:csn,2026:problem/invalid"
    assert (body["title"], body["status"], body["code"]) == ("Invalid", 400, "invalid")
    assert body["fields"] == {"title": [{"code": "invalid", "message": "Expected a string."}]}
    # The v1.0 shape, deprecated: the same values.
    assert body["error"] == {"code": "invalid", "message": body["detail"], "fields": body["fields"]}


def test_an_application_error_keeps_its_code_and_status(auth_client):
    response = auth_client.get("/api/v1/progress/1/")

    body = response.json()
    assert (response.status_code, body["status"], body["code"]) == (404, 404, "no_progress")
    assert body["title"] == "No progress"
    assert body["detail"] == body["error"]["message"]


def test_non_field_data_is_a_member_of_its_own_never_in_fields(rf):
    from rest_framework.request import Request

    from csn.api.errors import exception_handler

    request = Request(rf.get("/api/v1/x/"))
    error = ConflictError("Your plan allows 1 stream(s) at a time.", code="stream_limit", extra={"limit": 1})
    response = exception_handler(error, {"request": request})

    assert response.status_code == 409
    assert response.data["limit"] == 1
    assert response.data["fields"] == {}


def test_a_json_only_client_gets_application_json(api_client):
    response = api_client.get("/api/v1/me/", HTTP_ACCEPT="application/json")

    assert response.status_code == 401
    assert response["Content-Type"] == "application/json"
    assert response.json()["code"] == "not_authenticated"


@pytest.mark.parametrize(
    "accept, expected",
    [
        (None, "application/problem+json"),
        ("*/*", "application/problem+json"),
        ("application/json", "application/json"),
        ("application/json, application/problem+json", "application/problem+json"),
        ("application/problem+json", "application/problem+json"),
    ],
)
def test_the_problem_content_type_follows_accept(accept, expected):
    assert problem_content_type(accept) == expected


def test_a_problem_outside_drf_has_the_same_members(client):
    response = client.get("/api/v1/no-such-thing/", HTTP_ACCEPT="application/json")

    assert response["Content-Type"] == "application/json"
    assert set(response.json()) == PROBLEM_MEMBERS
