"""Time-aligned delivery: a socket that follows a topic `align`ed gets each event when its horizon
(the wall-clock time of the frame on its viewer's screen) passes the event's time, never before.

The transport knows topics, seqs, event times and delays, nothing of games or chat. A socket's horizon
is kept as its delay behind the wall clock (`lag`): while the viewer plays, the horizon moves with the
clock and the lag stays the same; a pause or a rewind is a new report, a new lag.

Design (docs/protocol.md, "Aligned delivery"):

- Per topic, one **timeline** of recent events in seq order: `(seq, effective time, encoded frame)`. The
  frame is the publisher's, encoded once, the same string the unaligned sockets get. An event's
  effective time is its own time or, if later, the previous event's: delivery keeps seq order (clients
  treat a skipped seq as a gap), so an event never passes one before it, and due times only grow.
- Sockets of a topic are grouped by delay, rounded **up** to `LIVE_ALIGN_QUANTUM_SECONDS` (0.1 s): a
  **tier**. Rounding up means a socket is never early and at most one quantum late. A tier is a cursor
  over the timeline and one timer: when its next event falls due it hands every due event, as one
  `Item` (one frame), to all its sockets, exactly as the unaligned fan-out does; and it is paced the
  same way (`LIVE_PACE_FACTOR`). 1,000 sockets over 10 horizons are 10 tiers: 10 passes per event.
- A socket that joins, or moves to another tier (a new report), gets at once the due events it lacks
  (`catch_up`), and never an event it already has (the subscriber keeps its last seq). Rewinding moves
  it to a later tier: nothing is sent again, nothing new comes until its horizon passes what it has.
- The timeline keeps an event until every tier has passed it and `KEEP_SECONDS` more (for sockets that
  join with an older snapshot), and at most `LIVE_ALIGN_TIMELINE_MAX` events: a tier that finds its next
  event gone hands on what it has, and its sockets see a seq gap and resync (the usual client rule).
"""

import bisect
import math
import time

from django.conf import settings

# Events already passed by every tier stay this long for sockets joining with an older snapshot.
KEEP_SECONDS = 10.0


class Clock:
    """The wall clock of delivery (seconds since the epoch). Tests replace `now`."""

    def __init__(self):
        self.now = time.time


clock = Clock()


def tier_of(lag: float) -> float:
    """The tier a delay falls in: rounded up to the quantum, so a socket is never early."""
    quantum = settings.LIVE_ALIGN_QUANTUM_SECONDS
    return math.ceil(round(max(0.0, lag) / quantum, 6)) * quantum


class Timeline:
    """A topic's recent events in seq order, each with its effective time (non-decreasing)."""

    __slots__ = ("ats", "frames", "seqs")

    def __init__(self):
        self.seqs: list[int] = []
        self.ats: list[float] = []
        self.frames: list[str] = []

    def add(self, seq: int, at: float, frame: str) -> bool:
        """Insert in seq order; False for a seq already held (an event that came two ways)."""
        index = bisect.bisect_left(self.seqs, seq)
        if index < len(self.seqs) and self.seqs[index] == seq:
            return False
        if index:
            at = max(at, self.ats[index - 1])
        self.seqs.insert(index, seq)
        self.ats.insert(index, at)
        self.frames.insert(index, frame)
        for later in range(index + 1, len(self.ats)):  # a late arrival pushes later events' times up
            if self.ats[later] >= at:
                break
            self.ats[later] = at
        return True

    def after(self, seq: int) -> int:
        """Index of the first event with a seq above `seq`."""
        return bisect.bisect_right(self.seqs, seq)

    def due_until(self, start: int, moment: float) -> int:
        """Index past the last event from `start` whose effective time is at or before `moment`."""
        return bisect.bisect_right(self.ats, moment, lo=start)

    def drop_before(self, index: int) -> None:
        if index > 0:
            del self.seqs[:index], self.ats[:index], self.frames[:index]

    def __len__(self) -> int:
        return len(self.seqs)


class Tier:
    """The sockets of one topic with the same (rounded) delay; `cursor` is the last seq handed on."""

    __slots__ = ("cursor", "handle", "lag", "next_pass", "subscribers")

    def __init__(self, lag: float, cursor: int):
        self.lag = lag
        self.cursor = cursor
        self.subscribers: set = set()
        self.handle = None  # the pending timer of its next pass
        self.next_pass = 0.0  # loop time before which the next pass waits (pacing)


class AlignedTopic:
    """What one process holds for a topic's aligned sockets."""

    __slots__ = ("tiers", "timeline")

    def __init__(self):
        self.timeline = Timeline()
        self.tiers: dict[float, Tier] = {}

    def tier_join(self, lag: float, subscriber) -> Tier:
        key = tier_of(lag)
        tier = self.tiers.get(key)
        if tier is None:
            timeline = self.timeline
            due = timeline.due_until(0, clock.now() - key)
            cursor = timeline.seqs[due - 1] if due else (timeline.seqs[0] - 1 if len(timeline) else 0)
            tier = self.tiers[key] = Tier(key, cursor)
        tier.subscribers.add(subscriber)
        return tier

    def tier_leave(self, subscriber) -> Tier | None:
        for key, tier in list(self.tiers.items()):
            if subscriber in tier.subscribers:
                tier.subscribers.discard(subscriber)
                if not tier.subscribers:
                    if tier.handle is not None:
                        tier.handle.cancel()
                    del self.tiers[key]
                return tier
        return None

    def due_events(self, tier: Tier, moment: float) -> list[tuple[int, str]]:
        """The events this tier has not handed on whose time has come; advances its cursor."""
        timeline = self.timeline
        start = timeline.after(tier.cursor)
        end = timeline.due_until(start, moment - tier.lag)
        if end <= start:
            return []
        tier.cursor = timeline.seqs[end - 1]
        return list(zip(timeline.seqs[start:end], timeline.frames[start:end], strict=True))

    def next_due(self, tier: Tier) -> float | None:
        """Wall-clock time the tier's next event falls due, or None when it has handed on everything."""
        index = self.timeline.after(tier.cursor)
        if index >= len(self.timeline):
            return None
        return self.timeline.ats[index] + tier.lag

    def catch_up(self, tier: Tier, since: int) -> list[tuple[int, str]]:
        """Events after `since` the tier has already handed on: due for a socket that joins it now."""
        timeline = self.timeline
        start, end = timeline.after(since), timeline.after(tier.cursor)
        return list(zip(timeline.seqs[start:end], timeline.frames[start:end], strict=True))

    def prune(self) -> None:
        timeline = self.timeline
        if not len(timeline):
            return
        oldest_cursor = min((tier.cursor for tier in self.tiers.values()), default=timeline.seqs[-1])
        passed = timeline.after(oldest_cursor)
        stale = timeline.due_until(0, clock.now() - max(self.tiers, default=0.0) - KEEP_SECONDS)
        excess = len(timeline) - settings.LIVE_ALIGN_TIMELINE_MAX
        timeline.drop_before(max(min(passed, stale), excess))
