"""Catch-up: playback choices and what you missed, key moments on the recording, chat replay in step."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from content.models import Content, Game, GameSpoiler
from content.spoilers import game_spoiler_set
from streaming.live.models import Broadcast
from streaming.live.services.chat import chat_message_delete, chat_message_post
from streaming.live.services.scores import game_event_record
from streaming.live.tests.factories import moderator, scorekeeper
from streaming.viewing.services import progress_record
from testing.factories import ContentFactory, GameFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def broadcast_game():
    """A live game whose stream began 30 minutes ago: kick-off at 0:05, a goal at 10:00, a red card at 20:00."""
    keeper = scorekeeper()
    game = GameFactory(status=Game.Status.SCHEDULED)
    started = timezone.now() - timedelta(minutes=30)
    Broadcast.objects.create(
        game=game, started_at=started, manifest_url="https://cdn.example.com/live/1.m3u8", is_premium=True
    )
    at = lambda seconds: started + timedelta(seconds=seconds)  # noqa: E731
    game_event_record(actor=keeper, game_id=game.pk, status="live", description="Kick-off", occurred_at=at(5))
    game_event_record(
        actor=keeper, game_id=game.pk, home_score=1, description="Goal #9", key_moment="goal", occurred_at=at(600)
    )
    game_event_record(
        actor=keeper, game_id=game.pk, description="Red card #4", key_moment="red_card", occurred_at=at(1200)
    )
    recording = ContentFactory(type=Content.Type.FULL_GAME, game=game, runtime_seconds=7200)
    return game, started, recording


def _api(user=None) -> APIClient:
    api = APIClient()
    if user is not None:
        api.force_authenticate(user)
    return api


def test_key_moments_have_offsets_into_the_recording_and_stop_at_a_spoiler_safe_viewers_position(broadcast_game):
    game, _, recording = broadcast_game
    everyone = _api().get(f"/api/v1/content/{recording.pk}/moments/").json()
    assert [(m["kind"], m["offset_seconds"]) for m in everyone["moments"]] == [("goal", 600.0), ("red_card", 1200.0)]
    assert (everyone["position_seconds"], everyone["hidden_after"]) == (None, 0)
    viewer = UserFactory()
    game_spoiler_set(user=viewer, game_id=game.pk, state=GameSpoiler.State.WATCH_LATER)
    held = _api(viewer).get(f"/api/v1/content/{recording.pk}/moments/").json()
    assert (held["moments"], held["hidden_after"], held["position_seconds"]) == ([], 2, 0.0)
    progress_record(
        user=viewer, content_id=recording.pk, position_seconds=900, duration_seconds=7200, recorded_at=timezone.now()
    )
    resumed = _api(viewer).get(f"/api/v1/content/{recording.pk}/moments/").json()  # from their progress
    assert [m["description"] for m in resumed["moments"]] == ["Goal #9"] and resumed["hidden_after"] == 1
    asked = _api(viewer).get(f"/api/v1/content/{recording.pk}/moments/?position=1300").json()
    assert len(asked["moments"]) == 2
    for bad in ("-1", "abc", "nan", "inf"):
        refused = _api(viewer).get(f"/api/v1/content/{recording.pk}/moments/?position={bad}")
        assert (refused.status_code, refused.json()["error"]["code"]) == (400, "invalid"), bad
        assert "position" in refused.json()["error"]["fields"]
    assert _api().get("/api/v1/content/999999/moments/").status_code == 404


def test_playback_answers_the_live_edge_the_window_the_choices_and_what_you_missed(broadcast_game):
    game, _, recording = broadcast_game
    viewer = UserFactory()
    progress_record(
        user=viewer, content_id=recording.pk, position_seconds=700, duration_seconds=7200, recorded_at=timezone.now()
    )
    answer = _api(viewer).get(f"/api/v1/games/{game.pk}/playback/").json()
    assert answer["locked"] is True and answer["manifest_url"] is None  # premium stream, free viewer
    assert answer["live_edge_offset_seconds"] == pytest.approx(1800, abs=5)
    assert answer["dvr_window_seconds"] == 7200 and answer["recording"] == recording.pk
    kinds = {c["kind"]: c["offset_seconds"] for c in answer["choices"]}
    assert kinds == {"live_edge": pytest.approx(1800, abs=5), "kickoff": 0.0, "where_you_left_off": 700.0}
    missed = answer["missed"]  # up to where they left off
    assert (missed["up_to_seconds"], missed["home_score"], missed["hidden_after"]) == (700.0, 1, 1)
    at_start = _api(viewer).get(f"/api/v1/games/{game.pk}/playback/?position=100").json()["missed"]
    assert (at_start["home_score"], at_start["moments"], at_start["score_hidden"]) == (0, [], False)
    beyond = _api(viewer).get(f"/api/v1/games/{game.pk}/playback/?position=999999").json()["missed"]
    assert beyond["up_to_seconds"] == pytest.approx(1800, abs=5)  # past the live edge: the live edge
    assert _api().get("/api/v1/games/999999/playback/").status_code == 404
    refused = _api().get(f"/api/v1/games/{game.pk}/playback/?position=x")
    assert (refused.status_code, refused.json()["error"]["code"]) == (400, "invalid")


def test_chat_replay_is_in_step_with_the_stream_and_leaves_moderated_messages_out(broadcast_game, monkeypatch):
    game, started, _ = broadcast_game
    author = UserFactory()
    posted = {}
    for offset, text in ((30, "here we go"), (640, "GOAL"), (650, "rude")):
        monkeypatch.setattr(timezone, "now", lambda offset=offset: started + timedelta(seconds=offset))
        posted[text] = chat_message_post(user=author, game_id=game.pk, text=text)
    monkeypatch.undo()
    rude = posted["rude"]
    chat_message_delete(actor=moderator(), message_id=rude.pk)
    replay = _api().get(f"/api/v1/games/{game.pk}/chat/replay/?from=600&to=700").json()
    assert [(m["text"], m["offset_seconds"]) for m in replay["messages"]] == [("GOAL", 640.0)]
    assert replay["from"] == 600 and replay["truncated"] is False
    whole = _api().get(f"/api/v1/games/{game.pk}/chat/replay/?from=0&to=600").json()
    assert [m["text"] for m in whole["messages"]] == ["here we go"]
    for query, code in (
        ("from=10&to=5", "invalid_range"),
        ("from=0&to=601", "invalid_range"),
        ("from=x&to=5", "invalid"),
        ("to=5", "invalid"),
        ("from=-1&to=5", "invalid"),
    ):
        refused = _api().get(f"/api/v1/games/{game.pk}/chat/replay/?{query}")
        assert (refused.status_code, refused.json()["error"]["code"]) == (400, code), query
    assert _api().get("/api/v1/games/999999/chat/replay/?from=0&to=5").status_code == 404


def test_scorekeepers_and_editors_mark_plays_as_key_after_the_fact_and_viewers_cannot(broadcast_game, editor):
    game, _, recording = broadcast_game
    kick_off = game.live_events.get(description="Kick-off")
    url = f"/api/v1/plays/{kick_off.pk}/"
    refused = _api(UserFactory()).patch(url, {"key_moment": "goal"}, format="json")
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "permission_denied")
    marked = _api(editor).patch(url, {"key_moment": "other"}, format="json")
    assert (marked.status_code, marked.json()["key_moment"]) == (200, "other")
    moments = _api().get(f"/api/v1/content/{recording.pk}/moments/").json()["moments"]
    assert [m["description"] for m in moments] == ["Kick-off", "Goal #9", "Red card #4"]
    assert _api(scorekeeper()).patch(url, {"key_moment": ""}, format="json").json()["key_moment"] == ""
    bad = _api(editor).patch(url, {"key_moment": "touchdownish"}, format="json")
    assert (bad.status_code, bad.json()["error"]["code"]) == (400, "invalid")
    assert _api(editor).patch("/api/v1/plays/999999/", {"key_moment": "goal"}, format="json").status_code == 404
