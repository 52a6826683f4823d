"""csn.browser: Django's browser middleware is passed by for an API request with a token, and only then."""

import pytest
from django.test import RequestFactory

from csn.browser import (
    BrowserAuthenticationMiddleware,
    BrowserMessageMiddleware,
    BrowserSessionMiddleware,
)

MIDDLEWARE = [
    (BrowserSessionMiddleware, "session"),
    (BrowserAuthenticationMiddleware, "user"),
    (BrowserMessageMiddleware, "_messages"),
]


def seen_by_the_view(path, **headers):
    """What each middleware left on the request the view gets."""
    request = RequestFactory().get(path, **headers)
    seen = {}

    def view(request):
        from django.http import HttpResponse

        seen.update({attribute: hasattr(request, attribute) for _, attribute in MIDDLEWARE})
        return HttpResponse()

    handler = view
    for middleware, _ in reversed(MIDDLEWARE):
        handler = middleware(handler)
    handler(request)
    return seen


@pytest.mark.parametrize("authorization", ["Bearer abc", "bearer abc", "Token abc", "BEARER x"])
def test_an_api_request_with_a_token_passes_them_by(authorization):
    assert seen_by_the_view("/api/v1/continue-watching/", HTTP_AUTHORIZATION=authorization) == {
        "session": False,
        "user": False,
        "_messages": False,
    }


@pytest.mark.parametrize(
    "path, headers",
    [
        ("/api/v1/continue-watching/", {}),  # a browser's session cookie, or nothing
        ("/api/v1/continue-watching/", {"HTTP_AUTHORIZATION": "Basic dXNlcjpwYXNz"}),  # not our scheme
        ("/api/v1/continue-watching/", {"HTTP_AUTHORIZATION": "Bearertoken"}),
        ("/admin/", {"HTTP_AUTHORIZATION": "Bearer abc"}),  # pages keep the session whatever the header
        ("/watch/1/", {"HTTP_AUTHORIZATION": "Token abc"}),
        ("/api/v1/continue-watching/", {"HTTP_AUTHORIZATION": "Bearer abc", "HTTP_COOKIE": "sessionid=s"}),
    ],
)
def test_every_other_request_goes_through_them(path, headers):
    assert seen_by_the_view(path, **headers) == {"session": True, "user": True, "_messages": True}


@pytest.mark.django_db
def test_a_token_request_is_still_signed_in_and_a_session_one_too(client, django_user_model):
    from accounts.services import token_issue

    user = django_user_model.objects.create_user(email="both@csn.local", password="a long password 123")
    token = token_issue(user=user)
    answer = client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {token.key}")
    assert answer.status_code == 200 and answer.json()["email"] == "both@csn.local"
    assert "sessionid" not in answer.cookies and "csrftoken" not in answer.cookies
    assert client.get("/api/v1/me/", HTTP_AUTHORIZATION="Bearer nope").status_code == 401

    client.force_login(user)  # a browser: its session signs the API request in
    assert client.get("/api/v1/me/").json()["email"] == "both@csn.local"
