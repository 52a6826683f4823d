"""Degrade under load: levels rise with lag and fall after calm; what each level sheds; scores never."""

import json

import pytest

from csn import metrics
from csn.realtime import load
from csn.realtime.frames import encode_event

GAME, CHAT = "game:7", "chat:7"


@pytest.fixture(autouse=True)
def fresh_state(monkeypatch, settings):
    settings.LIVE_SHED_LAG_SECONDS = [0.1, 0.25, 0.5]
    settings.LIVE_SHED_RECOVER_SECONDS = 10
    settings.LIVE_SHED_STATE_SECONDS = [5.0, 15.0, 15.0]
    settings.LIVE_SHED_SUMMED_SECONDS = [2.0, 5.0, 10.0]
    settings.LIVE_SHED_SAMPLE_ROOM = 100
    settings.LIVE_SHED_SAMPLE_KEEP_ONE_IN = 10
    settings.LIVE_SHED_SAMPLED_PACE = 4.0
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
    shed, authors, _ = load.shed(GAME, events, 10)
    assert _names(shed) == [(1, "skipped"), (2, "game.event"), (3, "viewers")]
    assert json.loads(shed[0][1])["data"] == {"name": "viewers"}
    assert authors == set()

    fresh_state["now"] += 2  # inside the 5 s window: no count passes
    shed, *_ = load.shed(GAME, [_event(GAME, 4, "viewers"), _event(GAME, 5, "game.event")], 10)
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
    assert load.pace(CHAT) == 1.0  # nor paces it
    # One in 10 passes: three messages earn 0.3 of one, so this pass keeps none of them.
    shed, authors, _ = load.shed(CHAT, chat, 100)
    assert _names(shed) == [(9, "skipped"), (10, "skipped"), (11, "skipped"), (12, "chat.deleted")]
    assert authors == {900, 1000, 1100}
    # Sampling saves bytes, not writes: the sampled room's passes are also spaced further apart.
    assert load.pace(CHAT) == 4.0 and load.pace(GAME) == 1.0
    load.state.level = 2
    assert load.pace(CHAT) == 1.0


def test_sampling_keeps_one_in_ten_over_passes_the_newest_of_each():
    load.state.level = 3
    kept = []
    for first in range(1, 100, 7):  # passes of 7 messages: 0.7 of a kept message each
        chat = [_event(CHAT, seq, "chat.message", {"user": {"id": 1}}) for seq in range(first, first + 7)]
        shed, _, coalesced = load.shed(CHAT, chat, 100)
        names = _names(shed)
        kept += [seq for seq, name in names if name == "chat.message"]
        # The kept ones are the newest of the pass; the shed ones before them, one run.
        assert names == sorted(names, key=lambda entry: entry[1] == "chat.message")
        assert [name for _, name in _names(coalesced)].count("skipped") == 1  # however many were shed
    assert len(kept) == 10  # 15 passes x 7 = 105 messages: 10 kept, none lost in rounding
    assert kept[0] == 14  # the second pass (8..14) is the first to have earned one: its newest


def test_protocol_two_gets_one_note_per_run_of_shed_events_with_its_count():
    load.state.level = 3
    chat = [_event(CHAT, seq, "chat.message", {"user": {"id": seq}}) for seq in range(1, 21)]
    chat[9] = _event(CHAT, 10, "chat.deleted", {"id": 3})  # never shed: it splits the run
    shed, authors, coalesced = load.shed(CHAT, chat, 100)
    # 19 messages earn one kept message (the newest); 18 are shed, in two runs around the deletion.
    assert _names(shed).count((20, "chat.message")) == 1 and len(shed) == 20
    assert [(seq, json.loads(text)["name"], json.loads(text)["data"]) for seq, text in coalesced] == [
        (9, "skipped", {"name": "chat.message", "count": 9}),
        (10, "chat.deleted", {"id": 3}),
        (19, "skipped", {"name": "chat.message", "count": 9}),
        (20, "chat.message", {"user": {"id": 20}}),
    ]
    assert authors == set(range(1, 20)) - {10}
    # Seqs that do not follow each other (one lost on the way) are not one run: a note never covers a seq
    # it does not stand for.
    load.state.sample_credit.clear()
    holed = [_event(CHAT, seq, "chat.message", {"user": {"id": 1}}) for seq in (30, 31, 33, 34)]
    _, _, coalesced = load.shed(CHAT, holed, 100)
    assert [(seq, json.loads(text)["data"]) for seq, text in coalesced] == [
        (31, {"name": "chat.message", "count": 2}),
        (34, {"name": "chat.message", "count": 2}),
    ]


def _reactions(seq, second, counts):
    data = {"second": f"2026-12-03T13:01:{second:02d}Z", "counts": counts, "total": sum(counts.values())}
    return _event(GAME, seq, "game.reactions", data)


def _shed_count(name):
    return metrics.REGISTRY.get_sample_value("csn_live_shed_events_total", {"what": name}) or 0


def _summed_count(name):
    return metrics.REGISTRY.get_sample_value("csn_live_shed_summed_total", {"what": name}) or 0


def test_reaction_counts_are_summed_from_level_one_before_chat_is_touched(fresh_state):
    load.state.level = 1
    shed_before, summed_before = _shed_count("game.reactions"), _summed_count("game.reactions")
    # The first counts frame passes whole (nothing held yet); a score is never shed.
    assert load.shed(GAME, [_reactions(1, 1, {"🔥": 2})], 10) is None

    fresh_state["now"] += 1  # inside the 2 s window: held back, the score passes
    shed, authors, _ = load.shed(GAME, [_reactions(2, 2, {"🔥": 3}), _event(GAME, 3, "game.event")], 10)
    assert _names(shed) == [(2, "skipped"), (3, "game.event")] and authors == set()
    fresh_state["now"] += 0.5
    shed, *_ = load.shed(GAME, [_reactions(4, 3, {"👏": 1})], 10)
    assert _names(shed) == [(4, "skipped")]

    fresh_state["now"] += 1  # due: the next one carries what was held back, and since when
    shed, *_ = load.shed(GAME, [_reactions(5, 4, {"🔥": 1, "😂": 4})], 10)
    (frame,) = [json.loads(text) for _, text in shed]
    assert (frame["seq"], frame["name"]) == (5, "game.reactions")
    assert frame["data"] == {
        "second": "2026-12-03T13:01:04Z",
        "since": "2026-12-03T13:01:02Z",
        "counts": {"🔥": 4, "👏": 1, "😂": 4},
        "total": 9,
    }
    assert _shed_count("game.reactions") - shed_before == 2 * 10  # two frames, ten sockets each
    assert _summed_count("game.reactions") - summed_before == 2  # two events held, once each

    # Several in one pass: the newest passes with the others' counts.
    fresh_state["now"] += 2
    shed, *_ = load.shed(GAME, [_reactions(6, 5, {"🔥": 1}), _reactions(7, 6, {"🔥": 2})], 10)
    assert _names(shed) == [(6, "skipped"), (7, "game.reactions")]
    assert json.loads(shed[1][1])["data"]["counts"] == {"🔥": 3}


def test_higher_levels_sum_reactions_over_longer_windows(fresh_state):
    load.state.level = 3
    load.state.summed_sent[GAME] = fresh_state["now"]
    for seq in range(1, 10):  # nine seconds inside the 10 s window of level 3: all held
        fresh_state["now"] += 1
        shed, *_ = load.shed(GAME, [_reactions(seq, seq, {"🎉": 1})], 10)
        assert _names(shed) == [(seq, "skipped")]
    fresh_state["now"] += 1
    shed, *_ = load.shed(GAME, [_reactions(10, 10, {"🎉": 1})], 10)
    assert json.loads(shed[0][1])["data"]["counts"] == {"🎉": 10}
    assert json.loads(shed[0][1])["data"]["since"] == "2026-12-03T13:01:01Z"


def test_held_counts_go_out_after_recovery_unless_stale(fresh_state):
    load.state.level = 2
    load.state.summed_sent[GAME] = fresh_state["now"]
    load.shed(GAME, [_reactions(1, 1, {"🔥": 5})], 10)  # held
    load.state.level = 0  # recovered: the next frame carries the held counts at once
    fresh_state["now"] += 1
    shed, *_ = load.shed(GAME, [_reactions(2, 2, {"🔥": 1})], 10)
    assert json.loads(shed[0][1])["data"]["total"] == 6
    assert load.shed(GAME, [_reactions(3, 3, {"🔥": 1})], 10) is None  # nothing held: untouched

    load.state.level = 1
    load.state.summed_sent[GAME] = fresh_state["now"]
    load.shed(GAME, [_reactions(4, 4, {"🔥": 7})], 10)  # held
    load.state.level = 0
    fresh_state["now"] += 21  # held longer than twice the longest window: dropped, not sent late
    assert load.shed(GAME, [_reactions(5, 25, {"🔥": 1})], 10) is None
    assert load.state.held == {}
