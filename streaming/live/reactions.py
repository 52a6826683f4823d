"""Reactions to a game, counted in each process and pushed at most once a second per game; poll
counts, pushed at most once a second per poll, ride the same tick.

A socket's reaction costs no database write and no frame of its own: it is counted here, on the event
loop. Just after each whole second the counts of the second that ended go, in one call on the database
thread, to `engagement.reactions_flush` (the sum across processes, in Redis); the process that claimed a
game-second first waits `LEAD_WAIT` for the others, then publishes that second's `game.reactions`
frame (one per game per second, whatever the number of senders or processes) and keeps its row.
Polls voted on during the second get one `poll.counts` frame each (`engagement.polls_counts_publish`).
"""

import asyncio
import logging
import math
import time
from collections import deque

from channels.db import database_sync_to_async
from django.conf import settings

from csn.errors import ApplicationError
from streaming.live.services import engagement

logger = logging.getLogger(__name__)

LEAD_WAIT = 0.2  # seconds the publishing process leaves the others to add their counts
IDLE_TICKS = 30  # the ticker stops after this many seconds without a reaction (and restarts on the next)
SAMPLE_SECONDS = 60  # analytics: a user's first reaction to a game in each minute


class SocketReactions:
    """One socket's recent reactions (its rate limit) and when each game was last sampled."""

    __slots__ = ("recent", "sampled")

    def __init__(self):
        self.recent: deque[float] = deque()
        self.sampled: dict[int, float] = {}


class ReactionCounter:
    """Counts per wall-clock second (the second a reaction arrived in labels it, however late the tick
    runs), per game, per emoji. One tick task per process while reactions or votes come in."""

    def __init__(self):
        self.loop: asyncio.AbstractEventLoop | None = None
        self.counts: dict[int, dict[int, dict[str, int]]] = {}  # second -> game -> emoji -> count
        self.sampled: list[tuple[int, int, str]] = []
        self.polls: set[int] = set()
        self.task: asyncio.Task | None = None
        self.flushing: asyncio.Task | None = None

    def _bind(self) -> asyncio.AbstractEventLoop:
        loop = asyncio.get_running_loop()
        if self.loop is not loop:  # a new loop (tests run one per test): start clean on it
            self.loop, self.counts, self.sampled, self.polls, self.task = loop, {}, [], set(), None
            self.flushing = None
        return loop

    def _start(self, loop) -> None:
        if self.task is None:
            self.task = loop.create_task(self._tick())

    def poll_voted(self, poll_id: int) -> None:
        """A vote was stored: the poll's counts go out with the next tick."""
        loop = self._bind()
        self.polls.add(poll_id)
        self._start(loop)

    def add(self, *, socket: SocketReactions, user_id: int, game_id: int, emoji) -> None:
        """Count a reaction: one of LIVE_REACTIONS, at most LIVE_REACTIONS_PER_SECOND per socket."""
        if not isinstance(emoji, str) or emoji not in settings.LIVE_REACTIONS:
            raise ApplicationError(f"`emoji` is one of {' '.join(settings.LIVE_REACTIONS)}.", code="invalid_reaction")
        now = time.monotonic()
        recent = socket.recent
        while recent and recent[0] <= now - 1.0:
            recent.popleft()
        if len(recent) >= settings.LIVE_REACTIONS_PER_SECOND:
            raise ApplicationError("You are reacting too fast.", code="rate_limited")
        recent.append(now)
        loop = self._bind()
        game = self.counts.setdefault(math.floor(time.time()), {}).setdefault(game_id, {})
        game[emoji] = game.get(emoji, 0) + 1
        if now - socket.sampled.get(game_id, -math.inf) >= SAMPLE_SECONDS:
            socket.sampled[game_id] = now
            self.sampled.append((user_id, game_id, emoji))
        self._start(loop)

    async def _tick(self) -> None:
        idle = 0
        try:
            while idle < IDLE_TICKS:
                now = time.time()
                await asyncio.sleep(math.floor(now) + 1 - now + 0.001)  # just past the next whole second
                current = math.floor(time.time())
                done = sorted(second for second in self.counts if second < current)
                seconds = [(second, self.counts.pop(second)) for second in done]
                sampled, self.sampled = self.sampled, []
                polls, self.polls = self.polls, set()
                if not seconds and not sampled and not polls:
                    idle += 1
                    continue
                idle = 0
                # Flushes run in their own task, one after the other: a slow one never delays the tick.
                previous = self.flushing
                self.flushing = asyncio.get_running_loop().create_task(
                    self._flush(previous, current - 1, seconds, sampled, polls)
                )
        finally:
            self.task = None

    async def _flush(self, previous, second: int, seconds: list, sampled: list, polls: set) -> None:
        if previous is not None:
            await asyncio.wait([previous])
        try:
            for counted_second, counts in seconds:
                leading = await database_sync_to_async(engagement.reactions_flush)(second=counted_second, counts=counts)
                if leading and settings.REDIS_URL:
                    await asyncio.sleep(LEAD_WAIT)  # the other processes add theirs meanwhile
                for game_id in leading:
                    await database_sync_to_async(engagement.reactions_second_publish)(
                        game_id=game_id, second=counted_second, local=counts.get(game_id, {})
                    )
            if polls:
                await database_sync_to_async(engagement.polls_counts_publish)(second=second, poll_ids=polls)
            if sampled:  # last: the frames do not wait for the analytics rows
                await database_sync_to_async(engagement.reactions_sampled_record)(sampled=sampled)
        except Exception:  # a second's counts are lost, never the socket or the ticker
            logger.warning("live: reactions of second %s not published", second, exc_info=True)


counter = ReactionCounter()
