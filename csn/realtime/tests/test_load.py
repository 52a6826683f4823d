"""Degrade under load: levels rise with lag and fall after calm; what each level sheds; scores never."""

import json

import pytest

from csn.realtime import load
from csn.realtime.frames import encode_event

GAME, CHAT = "game:7", "chat:7"


@pytest.fixture(autouse=True)
def fresh_state(monkeypatch, settings):
    settings.LIVE_SHED_LAG_SECONDS = [0.1, 0.25, 0.5]
    settings.LIVE_SHED_RECOVER_SECONDS = 10
    settings.LIVE_SHED_STATE_SECONDS = [5.0, 15.0, 15.0]
    settings.LIVE_SHED_SAMPLE_ROOM = 100
    settings.LIVE_SHED_SAMPLE_KEEP_ONE_IN = 10
    monkeypatch.setattr(load, "state", load.State())
    clock = {"now": 1000.0}
    monkeypatch.setattr(load.time, "monotonic", lambda: clock["now"])
    return clock


def _event(topic, seq, name, data=None):
    return seq, encode_event(topic=topic, seq=seq, name=name, data=data or {})


def _names(events):
    return [(seq, json.loads(text)["name"]) for seq, text in events]


def test_the_level_rises_at_once_and_falls_a_step_after_a_calm_spell(fresh_state):
    load.fanout_observed(0.3)
    assert load.state.level == 2  # past 0.1 and 0.25
    load.sample(0.6)
    assert load.state.level == 3

    load.sample(0.0)  # calm starts
    fresh_state["now"] += 9
    load.sample(0.0)
    assert load.state.level == 3
    fresh_state["now"] += 1
    load.sample(0.0)
    assert load.state.level == 2
    fresh_state["now"] += 10
    load.sample(0.0)
    assert load.state.level == 1
    load.sample(0.2)  # lag again: the calm spell starts over
    fresh_state["now"] += 10
    load.sample(0.0)
    assert load.state.level == 1


def test_nothing_is_shed_at_level_zero():
    assert load.shed(GAME, [_event(GAME, 1, "viewers", {"count": 3})], 1000) is None


def test_level_one_passes_one_viewer_count_per_window_and_never_a_score(fresh_state):
    load.state.level = 1
    events = [
        _event(GAME, 1, "viewers", {"count": 1}),
        _event(GAME, 2, "game.event", {"play": 1}),
        _event(GAME, 3, "viewers", {"count": 2}),
    ]
    shed, authors = load.shed(GAME, events, 10)
    assert _names(shed) == [(1, "skipped"), (2, "game.event"), (3, "viewers")]
    assert json.loads(shed[0][1])["data"] == {"name": "viewers"}
    assert authors == set()

    fresh_state["now"] += 2  # inside the 5 s window: no count passes
    shed, _ = load.shed(GAME, [_event(GAME, 4, "viewers"), _event(GAME, 5, "game.event")], 10)
    assert _names(shed) == [(4, "skipped"), (5, "game.event")]

    fresh_state["now"] += 4
    assert load.shed(GAME, [_event(GAME, 6, "viewers")], 10) is None  # due again: passes whole


def test_level_three_samples_chat_in_large_rooms_only_and_names_the_authors():
    chat = [_event(CHAT, seq, "chat.message", {"user": {"id": seq * 100}}) for seq in range(9, 12)]
    chat.append(_event(CHAT, 12, "chat.deleted", {"id": 1}))
    load.state.level = 2
    assert load.shed(CHAT, chat, 1000) is None  # level 2 does not touch chat

    load.state.level = 3
    assert load.shed(CHAT, chat, 99) is None  # a small room is never sampled
    shed, authors = load.shed(CHAT, chat, 100)
    assert _names(shed) == [(9, "skipped"), (10, "chat.message"), (11, "skipped"), (12, "chat.deleted")]
    assert authors == {900, 1100}
