"""Viewer-state events reach the user's other devices through the real gateway, only after commit."""

import pytest
from asgiref.sync import async_to_sync
from django.db import transaction
from rest_framework.test import APIClient

from accounts.services import token_issue
from streaming.fans import services as fans_services
from streaming.fans.models import FavoriteTeam
from streaming.tests.live import Client, db
from testing.factories import ContentFactory, LiveGameFactory

pytestmark = pytest.mark.django_db(transaction=True)


def on_user_topic(user, action, *, expect: int):
    """Sign a websocket in as `user`, follow `user`, run `action` (sync, in a DB thread), and return the
    events that arrive (`expect` of them), then check nothing else does."""

    token = token_issue(user=user).key

    async def scenario():
        client = await Client().connect()
        await client.request({"type": "auth", "token": token})
        snapshot = await client.request({"type": "subscribe", "topic": "user"})
        assert snapshot["type"] == "snapshot"
        await db(action)()
        events = await client.recv_events(expect) if expect else []
        assert await client.nothing()
        await client.close()
        return events

    return async_to_sync(scenario)()


def test_progress_update_reaches_the_users_other_devices(user):
    content = ContentFactory()
    device = APIClient()
    device.force_authenticate(user=user)
    body = {"position_seconds": 42.0, "duration_seconds": 100.0, "recorded_at": "2026-01-01T00:00:00Z"}

    def watch():
        assert device.put(f"/api/v1/progress/{content.pk}/", body, format="json").status_code == 200

    (event,) = on_user_topic(user, watch, expect=1)

    assert (event["topic"], event["name"]) == ("user", "progress.updated")
    assert event["data"]["content_id"] == content.pk
    assert event["data"]["position_seconds"] == 42.0
    # Exactly what the API answers for that item: a device updates its row from either.
    assert event["data"] == device.get(f"/api/v1/progress/{content.pk}/").json()


def test_a_rolled_back_write_publishes_nothing(user):
    game = LiveGameFactory()
    FavoriteTeam.objects.create(user=user, team=game.home_team)

    def fails():
        with pytest.raises(RuntimeError), transaction.atomic():
            fans_services.notify_game_live(game=game)
            raise RuntimeError("the caller's transaction fails")

    assert on_user_topic(user, fails, expect=0) == []


def test_notification_is_delivered_after_commit(user):
    game = LiveGameFactory()
    FavoriteTeam.objects.create(user=user, team=game.away_team)

    def goes_live():
        with transaction.atomic():
            fans_services.notify_game_live(game=game)

    (event,) = on_user_topic(user, goes_live, expect=1)

    assert event["name"] == "notification.created"
    assert event["data"]["kind"] == "game_live"
    assert event["data"]["data"]["game_id"] == game.pk
