"""Every throttled answer says its budget: `RateLimit-Policy` and `RateLimit` (IETF draft fields) from
the throttle that counted it, the tightest when several did; a 429 adds `Retry-After`."""

import re

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

RATES = {"user_read": "3/min", "user_write": "2/min", "anon_read": "3/min", "anon_write": "2/min"}
FIELD = re.compile(r'^"(?P<policy>\w+)";r=(?P<remaining>\d+);t=(?P<reset>\d+)$')


@pytest.fixture
def low_rates(settings):
    rates = {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], **RATES}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}


def _remaining(response) -> tuple[str, int, int]:
    match = FIELD.match(response["RateLimit"])
    assert match, response["RateLimit"]
    return match["policy"], int(match["remaining"]), int(match["reset"])


def test_reads_count_down_then_429_with_retry_after(low_rates):
    client = APIClient(REMOTE_ADDR="203.0.113.20")
    answers = [client.get("/api/v1/teams/") for _ in range(4)]

    assert answers[0]["RateLimit-Policy"] == '"anon_read";q=3;w=60'
    assert [_remaining(a)[1] for a in answers] == [2, 1, 0, 0]
    assert all(0 < _remaining(a)[2] <= 60 for a in answers)
    assert answers[-1].status_code == 429
    assert 0 < int(answers[-1]["Retry-After"]) <= 60


def test_a_signed_in_write_shows_the_user_write_budget(low_rates, user):
    client = APIClient()
    client.force_authenticate(user)

    response = client.patch("/api/v1/me/", {"display_name": "New"}, format="json")

    assert response["RateLimit-Policy"] == '"user_write";q=2;w=60'
    assert _remaining(response)[:2] == ("user_write", 1)


def test_the_sign_in_throttle_shows_its_own_sliding_window(user):
    client = APIClient(REMOTE_ADDR="203.0.113.21")
    first = client.post("/api/v1/auth/token/", {"email": user.email, "password": "wrong"}, format="json")
    second = client.post("/api/v1/auth/token/", {"email": user.email, "password": "wrong"}, format="json")

    limit = int(re.match(r'^"login";q=(\d+);w=60$', first["RateLimit-Policy"])[1])
    assert _remaining(first)[:2] == ("login", limit - 1)
    assert _remaining(second)[:2] == ("login", limit - 2)


def test_no_headers_when_the_throttle_cache_is_down(low_rates, monkeypatch):
    from csn.api import rates

    def broken(self, key):
        raise ConnectionError("cache down")

    monkeypatch.setattr(rates._ReadWriteRateThrottle, "_count", broken)
    response = APIClient(REMOTE_ADDR="203.0.113.22").get("/api/v1/teams/")

    assert response.status_code == 200
    assert "RateLimit" not in response


def test_analytics_intake_shows_its_own_window(user):
    client = APIClient()
    client.force_authenticate(user)

    response = client.post("/api/v1/analytics/events/", {"events": [{"name": "nope"}]}, format="json")

    policy, remaining, _ = _remaining(response)
    limit = int(re.match(r'^"analytics";q=(\d+);w=60$', response["RateLimit-Policy"])[1])
    assert (policy, remaining) == ("analytics", limit - 1)
