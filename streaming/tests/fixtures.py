"""Shared fixtures for viewer-state tests (imported by the streaming and accounts conftests)."""

import pytest
from rest_framework.test import APIClient

from accounts.tests.factories import UserFactory
from streaming import broadcast


@pytest.fixture
def published(monkeypatch):
    """Every `publish_user_event` call, in order, as (user_id, name, data). The real function still
    runs (it defers the send to after commit); tests of delivery itself subscribe to the layer."""
    calls: list[tuple[int, str, dict]] = []
    real = broadcast.publish_user_event

    def spy(*, user_id, name, data):
        calls.append((user_id, name, data))
        real(user_id=user_id, name=name, data=data)

    monkeypatch.setattr(broadcast, "publish_user_event", spy)
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
