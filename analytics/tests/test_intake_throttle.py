"""The intake's per-user sliding window, on Redis (one round trip) and on other caches (DRF's)."""

import pytest
from rest_framework.settings import api_settings
from rest_framework.test import APIClient

from analytics.api.views import AnalyticsRateThrottle

URL = "/api/v1/analytics/events/"
PAUSE = {"name": "video_pause", "properties": {"video_id": 7, "position_seconds": 12.5}}


@pytest.fixture
def clock(monkeypatch):
    now = [1_800_000_000.0]
    monkeypatch.setattr(AnalyticsRateThrottle, "timer", staticmethod(lambda: now[0]))
    monkeypatch.setattr(
        AnalyticsRateThrottle, "THROTTLE_RATES", {**api_settings.DEFAULT_THROTTLE_RATES, "analytics": "3/min"}
    )
    return now


@pytest.mark.django_db
def test_window_slides_and_refused_requests_do_not_count(clock, user):
    client = APIClient()
    client.force_authenticate(user=user)

    def post_at(t):
        clock[0] = 1_800_000_000.0 + t
        return client.post(URL, {"events": [PAUSE]}, format="json")

    assert [post_at(t).status_code for t in (0, 10, 20)] == [202, 202, 202]
    refused = post_at(30)
    assert refused.status_code == 429
    assert refused["Retry-After"] == "30"  # the request at t=0 leaves the window at t=60
    assert refused.json()["error"]["code"] == "throttled"
    # t=0 has left the window; the refusal at t=30 was not counted, so 10, 20 and 61 fit.
    assert post_at(61).status_code == 202
    assert post_at(62).status_code == 429
