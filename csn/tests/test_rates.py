"""Default API throttles (csn.api.rates): per user when signed in, else per client address; reads and
writes counted apart; a refusal is a 429 in the error shape with Retry-After."""

import pytest
from rest_framework.test import APIClient

from csn.api.rates import AnonRateThrottle, UserRateThrottle

RATES = {"user_read": "3/min", "user_write": "2/min", "anon_read": "3/min", "anon_write": "2/min"}


@pytest.fixture
def low_rates(settings):
    rates = {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], **RATES}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}


def test_every_endpoint_gets_them_by_default():
    from rest_framework.views import APIView

    assert APIView.throttle_classes == [UserRateThrottle, AnonRateThrottle]


@pytest.mark.django_db
def test_anonymous_reads_are_limited_per_client_address(low_rates):
    client = APIClient(REMOTE_ADDR="203.0.113.7")
    for _ in range(3):
        assert client.get("/api/v1/teams/").status_code == 200
    refused = client.get("/api/v1/teams/")

    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "throttled"
    assert 0 < int(refused["Retry-After"]) <= 60
    assert APIClient(REMOTE_ADDR="203.0.113.8").get("/api/v1/teams/").status_code == 200
    # A client cannot reset its count by sending its own X-Forwarded-For (no trusted proxy).
    assert client.get("/api/v1/teams/", HTTP_X_FORWARDED_FOR="198.51.100.1").status_code == 429


@pytest.mark.django_db
def test_a_user_has_a_read_and_a_tighter_write_budget(low_rates, user, other_user):
    client = APIClient(REMOTE_ADDR="203.0.113.7")
    client.force_authenticate(user)
    for name in ("One", "Two"):
        assert client.patch("/api/v1/me/", {"display_name": name}).status_code == 200
    assert client.patch("/api/v1/me/", {"display_name": "Three"}).status_code == 429
    for _ in range(3):
        assert client.get("/api/v1/me/").status_code == 200
    assert client.get("/api/v1/me/").status_code == 429

    other = APIClient(REMOTE_ADDR="203.0.113.7")  # same address, another user: its own budget
    other.force_authenticate(other_user)
    assert other.patch("/api/v1/me/", {"display_name": "Other"}).status_code == 200
    assert APIClient(REMOTE_ADDR="203.0.113.7").get("/api/v1/teams/").status_code == 200  # anonymous: apart


@pytest.mark.django_db
def test_endpoints_with_their_own_throttle_keep_it(low_rates, user):
    client = APIClient()
    for _ in range(4):
        response = client.post("/api/v1/auth/token/", {"email": user.email, "password": "wrong"})
        assert response.status_code == 400  # the login rate (10/min), not anon_write's 2/min


@pytest.mark.django_db
def test_a_failing_cache_lets_requests_through(low_rates, monkeypatch):
    from django.core.cache import cache

    def down(*args, **kwargs):
        raise ConnectionError("cache down")

    for name in ("incr", "add", "count"):  # count: csn.cache.RedisCache's one-round-trip counter
        if hasattr(cache, name):
            monkeypatch.setattr(cache, name, down)
    client = APIClient()
    for _ in range(5):
        assert client.get("/api/v1/teams/").status_code == 200
