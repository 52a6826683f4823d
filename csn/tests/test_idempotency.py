"""Idempotency-Key (csn.api.idempotency): a retry answers the first answer, the work done once; another
body with the key is a 409; keys are per user and expire."""

import datetime as dt
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, connections
from django.utils import timezone
from rest_framework.test import APIClient

from csn.api.idempotency import idempotency_keys_prune
from csn.api.models import IdempotencyKey
from streaming.live.models import GameEvent
from streaming.live.tests.factories import scorekeeper
from streaming.viewing.models import Playlist
from testing.factories import LiveGameFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/playlists/"


def _post(client, body, key="key-1", url=URL):
    return client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY=key)


def test_a_retry_with_the_key_replays_the_first_answer_and_creates_one_playlist(auth_client, user):
    first = _post(auth_client, {"title": "Road trip"})
    again = _post(auth_client, {"title": "Road trip"})

    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first
    assert Playlist.objects.filter(user=user).count() == 1


def test_without_a_key_every_post_creates(auth_client, user):
    auth_client.post(URL, {"title": "A"}, format="json")
    auth_client.post(URL, {"title": "A"}, format="json")

    assert Playlist.objects.filter(user=user).count() == 2


def test_the_same_key_with_another_body_is_a_409(auth_client, user):
    _post(auth_client, {"title": "Road trip"})
    reused = _post(auth_client, {"title": "Other"})

    assert reused.status_code == 409
    assert reused.json()["code"] == "idempotency_key_reused"
    assert Playlist.objects.filter(user=user).count() == 1


def test_keys_are_per_user(auth_client, other_client, user, other_user):
    mine = _post(auth_client, {"title": "Mine"})
    theirs = _post(other_client, {"title": "Mine"})

    assert mine.json()["id"] != theirs.json()["id"]
    assert Playlist.objects.filter(user=other_user).count() == 1


def test_an_error_answer_is_not_kept_so_the_key_can_be_retried(auth_client, user):
    refused = _post(auth_client, {"title": ""})
    fixed = _post(auth_client, {"title": "Fixed"})

    assert (refused.status_code, fixed.status_code) == (400, 201)
    assert IdempotencyKey.objects.get(user=user).status_code == 201


def test_a_key_past_its_lifetime_runs_the_request_again_and_is_pruned(auth_client, user, settings):
    _post(auth_client, {"title": "Road trip"})
    IdempotencyKey.objects.update(
        created_at=timezone.now() - dt.timedelta(seconds=settings.API_IDEMPOTENCY_TTL_SECONDS + 1)
    )

    again = _post(auth_client, {"title": "Road trip"})

    assert again.status_code == 201 and "Idempotent-Replayed" not in again
    assert Playlist.objects.filter(user=user).count() == 2
    IdempotencyKey.objects.update(created_at=timezone.now() - dt.timedelta(days=2))
    assert idempotency_keys_prune() == 1
    assert not IdempotencyKey.objects.exists()


@pytest.mark.parametrize("key", ["", "a" * 256, "with space", "é"])
def test_a_malformed_key_is_a_400(auth_client, key):
    response = _post(auth_client, {"title": "X"}, key=key)

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_idempotency_key"


def test_a_retried_score_event_records_one_play():
    game = LiveGameFactory()
    client = APIClient()
    client.force_authenticate(scorekeeper())
    url = f"/api/v1/games/{game.pk}/events/"

    first = _post(client, {"home_score": 3, "description": "Three"}, key="play-1", url=url)
    retry = _post(client, {"home_score": 3, "description": "Three"}, key="play-1", url=url)

    assert first.status_code == retry.status_code == 201
    assert retry.json() == first.json()
    assert GameEvent.objects.filter(game=game).count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_requests_with_one_key_at_once_do_the_work_once(user):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite runs one write at a time: the race needs PostgreSQL")
    barrier = threading.Barrier(2)

    def post():
        client = APIClient()
        client.force_authenticate(user)
        barrier.wait()
        try:
            response = _post(client, {"title": "At once"}, key="race")
            return response.status_code, response.json()["id"]
        finally:
            connections.close_all()

    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(lambda _: post(), range(2)))

    assert [status for status, _ in answers] == [201, 201]
    assert answers[0][1] == answers[1][1]
    assert Playlist.objects.filter(user=user).count() == 1
