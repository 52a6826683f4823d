"""Shared fixtures for viewer-state tests (imported by the streaming and accounts conftests)."""

import pytest
from rest_framework.test import APIClient

from accounts.tests.factories import UserFactory
from streaming import broadcast


@pytest.fixture
def published(monkeypatch):
    """Every event published on a user topic, in order, as (user_id, name, data), whether one at a time
    (`publish_user_event`) or in bulk (`publish_many`). The real functions still run (they store the
    event and defer the send to after commit); tests of delivery itself subscribe to the hub."""
    calls: list[tuple[int, str, dict]] = []
    real_one, real_many = broadcast.publish_user_event, broadcast.publish_many

    def spy_one(*, user_id, name, data):
        calls.append((user_id, name, data))
        real_one(user_id=user_id, name=name, data=data)

    def spy_many(events):
        calls.extend((int(t.split(":", 1)[1]), n, d) for t, n, d in events if t.startswith("user:"))
        real_many(events)

    monkeypatch.setattr(broadcast, "publish_user_event", spy_one)
    monkeypatch.setattr(broadcast, "publish_many", spy_many)
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
