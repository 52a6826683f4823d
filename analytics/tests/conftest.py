import pytest

from analytics.tests.fake_posthog import FakePostHog

TEST_KEY = "phc_test_key_5f1d"


@pytest.fixture
def fake_posthog():
    with FakePostHog(api_key=TEST_KEY) as fake:
        yield fake


@pytest.fixture
def posthog_settings(settings, fake_posthog):
    """Deliveries go to the fake PostHog through the real SDK."""
    settings.POSTHOG_API_KEY = TEST_KEY
    settings.POSTHOG_HOST = fake_posthog.url
    return settings


@pytest.fixture(autouse=True)
def _forget_queued_deliveries(monkeypatch):
    """Each test starts without a delivery queued by an earlier one."""
    from analytics.services import scheduling

    monkeypatch.setattr(scheduling, "_quiet_until", float("-inf"))
