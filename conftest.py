"""Project-wide test fixtures.

Tests use `DATABASE_URL` / `REDIS_URL` when set. With `CSN_REQUIRE_SERVICES=1` (CI), a missing
PostgreSQL or Redis fails the run at once instead of falling back to SQLite / in-memory.
"""

import os

import pytest
from django.conf import settings

pytest_plugins = ["testing.fixtures"]


def pytest_configure(config):
    if os.environ.get("CSN_REQUIRE_SERVICES") != "1":
        return
    problems = []
    if not settings.DATABASES["default"]["ENGINE"].endswith("postgresql"):  # Django's, or csn.postgresql
        problems.append("DATABASE_URL does not point at PostgreSQL")
    if not settings.REDIS_URL:
        problems.append("REDIS_URL is not set")
    else:
        import redis

        try:
            redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2).ping()
        except Exception as exc:
            problems.append(f"Redis at REDIS_URL is unreachable: {exc}")
    if problems:
        raise pytest.UsageError("CSN_REQUIRE_SERVICES=1 but " + "; ".join(problems))


@pytest.fixture(autouse=True)
def _isolated_cache():
    """Throttle counters live in the cache; every test starts with none."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _no_load_shedding(settings, monkeypatch):
    """A busy test machine lags: no test sees events shed unless it asks (csn/realtime/tests/test_load.py)."""
    from csn.realtime import load

    settings.LIVE_SHED_LAG_SECONDS = [3600.0, 3601.0, 3602.0]
    monkeypatch.setattr(load, "state", load.State())


@pytest.fixture
def outbox_held(monkeypatch):
    """Keep committed analytics events in the outbox, so a test can count what a use case committed.
    Without a broker (the embedded default) the on-commit delivery kick would send and delete them
    at once; the analytics tests cover delivery itself."""
    from analytics.services import scheduling

    monkeypatch.setattr(scheduling, "request_delivery", lambda: None)
