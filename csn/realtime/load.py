"""Degrade under load: a process whose fan-out or event loop runs late sheds what matters least, in order.

The level (0 .. 3) rises as soon as the worst lag seen (fan-out lag: publish to socket write, observed each
pass; event-loop lag: how late a timer fired, sampled each second) passes `LIVE_SHED_LAG_SECONDS[i]`, and
falls one step after `LIVE_SHED_RECOVER_SECONDS` below the threshold of the level. What is shed is
registered by the app that owns the event (`register`); the transport knows only these three ways:

- `STATE` events (viewer counts) carry a whole state; the newest replaces the older. From level 1 a topic
  passes one at most every `LIVE_SHED_STATE_SECONDS[level]` (level 1: less often; level 2: coarser still).
- `SUMMED` events (reaction counts: data `{second, counts: {key: n}, total}`, one per second) add up: from
  level 1 a topic passes one at most every `LIVE_SHED_SUMMED_SECONDS[level]`, carrying the counts and
  total of those held back since the last one that passed, and `since` (the `second` of the first
  of them). Held counts go out with the topic's next one, even after the level fell to 0, unless they
  were held longer than twice the longest window (then they are dropped: a sum that late would mislead).
- `SAMPLED` events (chat messages) in rooms of at least `LIVE_SHED_SAMPLE_ROOM` local sockets: from level
  3, one in `LIVE_SHED_SAMPLE_KEEP_ONE_IN` passes: the newest of each pass (a per-topic credit carries the
  fraction over, so the share is exact over passes; every socket of the process sees the same ones); the
  sockets that must see everything (their author, moderators: the gateway decides) get the whole item.
  A sampled room's passes are also spaced `LIVE_SHED_SAMPLED_PACE` times further apart (`pace`; the hub's
  pacing, bounded by its 0.5 s): fewer, larger frames per socket, and the loop time they free goes to the
  topics never shed (a game's scores are its own topic).

Every event not registered (scores, play-by-play, deletions, user events) is never shed. What is shed still
advances the topic's seq, so clients never take it for a gap (docs/protocol.md), in one of two shapes by
protocol version:

- protocol 1: one `{"type": "event", "seq": n, "name": "skipped", "data": {"name": ...}}` per shed event;
- protocol 2: one note per run of shed events of one name with consecutive seqs, `seq` the run's last,
  `data: {"name": ..., "count": k}` (it stands for seqs `seq - k + 1 .. seq`). A flooded room's pass then
  costs each socket its kept messages and one note, not a note per message.
"""

import json
import logging
import math
import time
from collections import Counter
from typing import NamedTuple

from django.conf import settings

from csn import metrics
from csn.realtime.frames import encode_event

logger = logging.getLogger(__name__)

STATE = "state"
SAMPLED = "sampled"
SUMMED = "summed"
SKIPPED = "skipped"

_policies: dict[str, str] = {}
_bulk_markers: list[str] = []  # how a SAMPLED event's name reads in its encoded frame


def register(name: str, policy: str) -> None:
    """Let events named `name` be shed under load, as `STATE`, `SUMMED` or `SAMPLED`."""
    if policy not in (STATE, SUMMED, SAMPLED):
        raise ValueError(policy)
    _policies[name] = policy
    _bulk_markers[:] = [f'"name":"{name}"' for name, policy in _policies.items() if policy == SAMPLED]


class State:
    def __init__(self):
        self.level = 0
        self.worst = 0.0  # the worst fan-out lag since the last sample
        self.calm_since: float | None = None
        self.state_sent: dict[str, float] = {}  # topic -> monotonic time of its last state event passed
        self.summed_sent: dict[str, float] = {}  # topic -> monotonic time of its last summed event passed
        self.held: dict[str, Held] = {}  # topic -> the summed events held back since the last one passed
        self.sampled: set[str] = set()  # topics whose last pass was in a sampled room (paced further apart)
        self.sample_credit: dict[str, float] = {}  # topic -> the fraction of a kept message carried over


class Held:
    """What a topic's summed events held back add up to, until the next one passes carrying it."""

    __slots__ = ("counts", "since", "started", "total")

    def __init__(self, since, started: float):
        self.counts: dict[str, int] = {}
        self.total = 0
        self.since = since  # the `second` of the first event held
        self.started = started  # monotonic time the first was held

    def add(self, data: dict) -> None:
        for key, count in (data.get("counts") or {}).items():
            self.counts[key] = self.counts.get(key, 0) + count
        self.total += data.get("total") or 0

    def merged(self, data: dict) -> dict:
        """`data` (the event that passes) with the held counts added to its own."""
        counts = dict(self.counts)
        for key, count in (data.get("counts") or {}).items():
            counts[key] = counts.get(key, 0) + count
        merged = {**data, "counts": counts, "total": self.total + (data.get("total") or 0)}
        if self.since is not None:
            merged["since"] = self.since
        return merged


state = State()


def _target(lag: float) -> int:
    return sum(lag > threshold for threshold in settings.LIVE_SHED_LAG_SECONDS)


def _set_level(level: int, lag: float) -> None:
    if level != state.level:
        logger.warning("live: load shedding level %d -> %d (lag %.0f ms)", state.level, level, lag * 1000)
    state.level = level
    metrics.live_shed_level.set(level)


def fanout_observed(lag: float) -> None:
    """A fan-out pass ended `lag` seconds after its oldest event was published: rise at once."""
    state.worst = max(state.worst, lag)
    if _target(lag) > state.level:
        _set_level(_target(lag), lag)
        state.calm_since = None


def sample(loop_lag: float) -> None:
    """Each second: rise to the worst lag's level, or fall a step after a calm spell."""
    worst, state.worst = max(loop_lag, state.worst), 0.0
    target = _target(worst)
    now = time.monotonic()
    if target > state.level:
        _set_level(target, worst)
        state.calm_since = None
    elif target < state.level:
        if state.calm_since is None:
            state.calm_since = now
        elif now - state.calm_since >= settings.LIVE_SHED_RECOVER_SECONDS:
            _set_level(state.level - 1, worst)
            state.calm_since = now
    else:
        state.calm_since = None
    metrics.live_shed_level.set(state.level)


def _held_limit() -> float:
    """Held counts older than this are dropped, not sent: twice the longest window."""
    return 2 * max(settings.LIVE_SHED_SUMMED_SECONDS)


def _held_fresh(now: float) -> bool:
    """Drop the held sums gone stale; whether any is left."""
    limit = _held_limit()
    for topic in [topic for topic, held in state.held.items() if now - held.started > limit]:
        del state.held[topic]
    return bool(state.held)


class Shed(NamedTuple):
    """A pass under load: `events` with one `skipped` note per shed event (protocol 1), `coalesced` with
    one note per run (protocol 2), and the ids of the users whose own events were shed."""

    events: list[tuple[int, str]]
    authors: set
    coalesced: list[tuple[int, str]]


def shed(topic: str, events: list[tuple[int, str]], subscribers: int) -> Shed | None:
    """What the sockets of `topic` get instead of `events` at the current level: the events with the shed
    ones replaced by `skipped` (and a summed one passing with what was held back added), and the ids of
    the users whose own events were shed (they see the whole item). None when nothing is shed."""
    if not _policies:
        return None
    now = time.monotonic()
    if state.level == 0 and not (topic in state.held and _held_fresh(now)):
        state.sampled.discard(topic)
        state.sample_credit.pop(topic, None)
        return None
    level = max(state.level, 1)
    sample_room = state.level >= 3 and subscribers >= settings.LIVE_SHED_SAMPLE_ROOM
    state_every = settings.LIVE_SHED_STATE_SECONDS[min(level, len(settings.LIVE_SHED_STATE_SECONDS)) - 1]
    summed_every = settings.LIVE_SHED_SUMMED_SECONDS[min(level, len(settings.LIVE_SHED_SUMMED_SECONDS)) - 1]
    out, authors = [], set()
    last_state = None
    summed, sampled = [], []
    for index, (seq, text) in enumerate(events):
        decoded = json.loads(text)
        name = decoded.get("name")
        policy = _policies.get(name)
        keep = True
        if policy == STATE and state.level:
            last_state = index
            keep = None  # decided below: only the newest of the pass may pass
        elif policy == SUMMED:
            summed.append((index, decoded))
            keep = None  # decided below: the newest of the pass may pass, carrying the others
        elif policy == SAMPLED and sample_room:
            sampled.append((index, decoded))
            keep = None  # decided below: the newest share of the pass passes
        out.append([seq, text, keep, name])
    if last_state is not None:
        due = now - state.state_sent.get(topic, float("-inf")) >= state_every
        for index, entry in enumerate(out):
            if _policies.get(entry[3]) == STATE:
                entry[2] = due and index == last_state
        if due:
            state.state_sent[topic] = now
    if summed:
        # At level 0 (held sums left from before) the next one passes at once with them.
        due = state.level == 0 or now - state.summed_sent.get(topic, float("-inf")) >= summed_every
        *held_back, (last, decoded) = summed
        for index, held_decoded in held_back if due else summed:
            _hold(topic, held_decoded, now)
            out[index][2] = False
        if due:
            state.summed_sent[topic] = now
            held = state.held.pop(topic, None)
            if held is not None and now - held.started <= _held_limit():
                out[last][1] = encode_event(
                    topic=topic, seq=out[last][0], name=out[last][3], data=held.merged(decoded.get("data") or {})
                )
            out[last][2] = True
    if sampled:
        # One in `keep_one_in` passes, the newest of the pass: the shed ones are the oldest, one run.
        credit = state.sample_credit.get(topic, 0.0) + len(sampled) / max(1, settings.LIVE_SHED_SAMPLE_KEEP_ONE_IN)
        kept = min(len(sampled), math.floor(credit))
        state.sample_credit[topic] = credit - kept
        for position, (index, decoded) in enumerate(sampled):
            out[index][2] = position >= len(sampled) - kept
            if not out[index][2]:
                author = ((decoded.get("data") or {}).get("user") or {}).get("id")
                if author is not None:
                    authors.add(author)
        state.sampled.add(topic)
    else:
        state.sampled.discard(topic)
        if not sample_room:
            state.sample_credit.pop(topic, None)
    result, coalesced, shed_names = [], [], []
    changed = False
    run: list = []  # [first seq, last seq, name] of the run of shed events the coalesced list is in

    def close_run() -> None:
        if run:
            first, last, name = run
            data = {"name": name, "count": last - first + 1}
            coalesced.append((last, encode_event(topic=topic, seq=last, name=SKIPPED, data=data)))
            run.clear()

    for (seq, text, keep, name), (_, original) in zip(out, events, strict=True):
        if keep:
            close_run()
            result.append((seq, text))
            coalesced.append((seq, text))
            changed = changed or text is not original
            continue
        shed_names.append(name)
        result.append((seq, encode_event(topic=topic, seq=seq, name=SKIPPED, data={"name": name})))
        if run and run[2] == name and run[1] == seq - 1:
            run[1] = seq
        else:
            close_run()
            run[:] = [seq, seq, name]
    close_run()
    if not shed_names and not changed:
        return None
    for name, count in Counter(shed_names).items():
        metrics.live_shed_events.labels(name).inc(count * subscribers)
    return Shed(result, authors, coalesced)


def bulk(events: list[tuple[int, str]]) -> bool:
    """Whether `events` hold one that may be sampled (a chat message): such a topic's backlog on a socket
    goes out after the others'. A look at the encoded text, no decoding (a false match only lowers the
    item's priority)."""
    return any(marker in text for _, text in events for marker in _bulk_markers)


def pace(topic: str) -> float:
    """How many times further apart than usual the hub spaces `topic`'s passes: a sampled room's at level 3."""
    if state.level >= 3 and topic in state.sampled:
        return max(1.0, settings.LIVE_SHED_SAMPLED_PACE)
    return 1.0


def _hold(topic: str, decoded: dict, now: float) -> None:
    """A summed event is held back: its counts wait for the topic's next one to pass."""
    data = decoded.get("data") or {}
    held = state.held.get(topic)
    if held is None:
        held = state.held[topic] = Held(data.get("second"), now)
    held.add(data)
    metrics.live_shed_summed.labels(decoded.get("name")).inc()
