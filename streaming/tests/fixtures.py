"""Shared fixtures for viewer-state tests (imported by the streaming and accounts conftests)."""

import pytest
from rest_framework.test import APIClient

from accounts.tests.factories import UserFactory
from streaming import broadcast


@pytest.fixture
def published(monkeypatch):
    """Every event published on a user topic, in order, as (user_id, name, data). Every publish goes
    through `publish_many`; the real function still runs (it stores the event and defers the send to
    after commit). Tests of delivery itself use a real websocket (test_live_events)."""
    calls: list[tuple[int, str, dict]] = []
    real = broadcast.publish_many

    def spy(events):
        calls.extend((int(t.split(":", 1)[1]), n, d) for t, n, d in events if t.startswith("user:"))
        real(events)

    monkeypatch.setattr(broadcast, "publish_many", spy)
    return calls


@pytest.fixture
def other_user(db):
    return UserFactory()


@pytest.fixture
def other_client(other_user):
    client = APIClient()
    client.force_authenticate(user=other_user)
    return client


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Factories register users through the real service; hashing is not what these tests measure.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
