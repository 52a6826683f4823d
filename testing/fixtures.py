"""Fixtures every app's tests may use (the root conftest registers this module)."""

import pytest
from rest_framework.test import APIClient

from accounts.services import subscription_update
from csn.realtime import publish as broadcast
from testing.factories import UserFactory, member_of


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Factories register users through the real service; the production hasher costs ~0.3 s each.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def api_client():
    return APIClient()


@pytest.fixture
def user(db):
    return UserFactory()


@pytest.fixture
def auth_client(user):
    client = APIClient()
    client.force_authenticate(user=user)
    return client


@pytest.fixture
def other_user(db):
    return UserFactory()


@pytest.fixture
def other_client(other_user):
    client = APIClient()
    client.force_authenticate(user=other_user)
    return client


@pytest.fixture
def editor(db):
    return member_of("Editors", is_staff=True)


@pytest.fixture
def publisher(db):
    return member_of("Publishers", is_staff=True)


@pytest.fixture
def superuser(db):
    user = UserFactory(is_staff=True)
    user.is_superuser = True
    user.save(update_fields=["is_superuser"])
    return user


@pytest.fixture
def staff_without_role(db):
    return UserFactory(is_staff=True)


@pytest.fixture
def viewer(db):
    return UserFactory()


@pytest.fixture
def premium_viewer(db):
    user = UserFactory()
    subscription_update(user=user, plan="premium", status="active")
    return type(user).objects.get(pk=user.pk)  # as a request would load it, without a stale cached plan


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
