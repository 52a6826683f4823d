"""Events reach the user's topic on the real channel layer, and only after commit."""

import asyncio

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

from accounts import services as account_services
from accounts.models import FavoriteTeam
from streaming import broadcast
from streaming.tests.factories import ContentFactory, GameFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def user_topic(user):
    """A channel subscribed to the user's topic group, and a way to read what arrived (once per test:
    the Redis layer binds a channel's receive buffer to the event loop of the first receive)."""
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    group = broadcast.topic_group(f"user:{user.pk}")
    async_to_sync(layer.group_add)(group, channel)

    async def _receive(timeout):
        try:
            return await asyncio.wait_for(layer.receive(channel), timeout)
        except TimeoutError:
            return None

    yield lambda timeout=2.0: async_to_sync(_receive)(timeout)
    async_to_sync(layer.group_discard)(group, channel)


def test_progress_update_is_delivered_after_commit(auth_client, user, user_topic, django_capture_on_commit_callbacks):
    content = ContentFactory()
    body = {"position_seconds": 42.0, "duration_seconds": 100.0, "recorded_at": "2026-01-01T00:00:00Z"}

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert auth_client.put(f"/api/v1/progress/{content.pk}/", body, format="json").status_code == 200
    assert callbacks  # the send waits for the commit
    for callback in callbacks:
        callback()

    message = user_topic()
    assert message["name"] == "progress.updated"
    assert message["data"]["content_id"] == content.pk
    assert message["data"]["position_seconds"] == 42.0


def test_a_rolled_back_write_publishes_nothing(user, user_topic, django_capture_on_commit_callbacks):
    game = GameFactory()
    FavoriteTeam.objects.create(user=user, team=game.home_team)

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        account_services.notify_game_live(game=game)
        raise RuntimeError("the caller's transaction fails")

    assert callbacks == []
    assert user_topic(0.2) is None


def test_notification_is_delivered_after_commit(user, user_topic, django_capture_on_commit_callbacks):
    game = GameFactory()
    FavoriteTeam.objects.create(user=user, team=game.away_team)

    with django_capture_on_commit_callbacks(execute=True):
        account_services.notify_game_live(game=game)

    message = user_topic()
    assert message["name"] == "notification.created"
    assert message["data"]["kind"] == "game_live"
    assert message["data"]["data"]["game_id"] == game.pk
