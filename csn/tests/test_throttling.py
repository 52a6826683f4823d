"""Throttles fail open: with the cache (Redis) down, throttled endpoints answer as usual, never 500."""

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from analytics.tests.test_resilience import redis_down
from csn.api.rates import AnonRateThrottle, UserRateThrottle
from csn.api.throttling import ScopedRateThrottle

# The throttles that let a request through when the cache fails: the scoped ones, and the default
# per-user and per-address ones (csn.api.rates counts in a fixed window of its own; test_rates holds them).
FAIL_OPEN = (ScopedRateThrottle, UserRateThrottle, AnonRateThrottle)

GOOD_PASSWORD = "correct horse battery staple"


def _views(patterns):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _views(pattern.url_patterns)
        elif isinstance(pattern, URLPattern):
            view = getattr(pattern.callback, "cls", None)
            if view is not None:
                yield view


def test_every_throttle_in_use_fails_open():
    throttles = {throttle for view in _views(get_resolver().url_patterns) for throttle in view().get_throttles()}
    assert throttles, "no throttled view found"
    assert all(isinstance(throttle, FAIL_OPEN) for throttle in throttles), throttles


@pytest.mark.django_db
def test_sign_in_and_registration_work_while_redis_is_down(api_client, user, settings, caplog):
    user.set_password(GOOD_PASSWORD)
    user.save(update_fields=["password"])
    with redis_down(settings):
        signed_in = api_client.post("/api/v1/auth/token/", {"email": user.email, "password": GOOD_PASSWORD})
        wrong = api_client.post("/api/v1/auth/token/", {"email": user.email, "password": "wrong"})
        registered = api_client.post(
            "/api/v1/auth/register/", {"email": "new@example.com", "password": GOOD_PASSWORD, "display_name": "New"}
        )

    assert signed_in.status_code == 200 and signed_in.json()["token"]
    assert wrong.status_code == 400 and wrong.json()["error"]["code"] == "invalid_credentials"
    assert registered.status_code == 201, registered.content
    assert "throttle login: the cache is unavailable" in caplog.text


@pytest.mark.django_db
def test_the_sign_in_page_works_while_redis_is_down(user, settings):
    user.set_password(GOOD_PASSWORD)
    user.save(update_fields=["password"])
    with redis_down(settings):
        wrong = Client().post("/accounts/sign-in/", {"username": user.email, "password": "wrong"})
        signed_in = Client().post("/accounts/sign-in/", {"username": user.email, "password": GOOD_PASSWORD})

    assert wrong.status_code == 200 and "Wrong email or password." in wrong.content.decode()
    assert signed_in.status_code == 302
