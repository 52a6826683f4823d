"""Where a viewer is in a live stream: horizons reported by clients, checked and kept per socket.

A horizon is the wall-clock time of the frame on the viewer's screen (HLS `EXT-X-PROGRAM-DATE-TIME`). The
socket keeps it as a delay behind the clock (csn.realtime.alignment), so it moves with the clock while
the viewer plays. Rules (docs/protocol.md, "Aligned delivery"):

- a horizon in the future counts as now (clocks differ; nobody is ahead of the live edge);
- a horizon before the DVR window of a game the socket follows aligned is refused (`horizon_out_of_window`);
- moving back (a rewind, a pause: the delay grows by more than `REWIND_TOLERANCE_SECONDS`) is accepted,
  at most `LIVE_ALIGN_REWINDS_PER_MINUTE` times a minute (`rate_limited`); moving forward always is.
"""

from collections import deque
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.utils.dateparse import parse_datetime

from content.models import Game
from csn.errors import ApplicationError
from csn.realtime.alignment import clock
from csn.representation import datetime_text
from streaming.live.models import Broadcast

# A delay that grows by less than this is clock jitter between two reports, not a rewind.
REWIND_TOLERANCE_SECONDS = 1.0
RATE_WINDOW_SECONDS = 60.0


def horizon_parse(value) -> datetime:
    """An RFC 3339 date-time with a time zone, else `invalid_message` (the message names no value)."""
    parsed = parse_datetime(value) if isinstance(value, str) and len(value) <= 40 else None
    if parsed is None or parsed.tzinfo is None:
        raise ApplicationError(
            "`horizon` is the RFC 3339 date-time (with a zone) of the frame on screen.", code="invalid_message"
        )
    return parsed


def window_start(game_ids) -> datetime:
    """The earliest horizon every one of these games' DVR windows holds (a game without a broadcast: the
    default window, `LIVE_ALIGN_MAX_DELAY_SECONDS`)."""
    now = datetime.fromtimestamp(clock.now(), UTC)
    earliest = now - timedelta(seconds=settings.LIVE_ALIGN_MAX_DELAY_SECONDS)
    for broadcast in Broadcast.objects.filter(game_id__in=list(game_ids)):
        earliest = max(earliest, now - timedelta(seconds=broadcast.dvr_window_seconds))
        if broadcast.started_at is not None:
            earliest = max(earliest, broadcast.started_at)
    return min(earliest, now)


def spoiler_start_delay(game_id: int) -> float | None:
    """For a viewer who holds this game's result (content.spoilers) and has not said where they are: the
    delay of a horizon at the stream's start (inside its window), so nothing is revealed. None: not held."""
    game = Game.objects.filter(pk=game_id).first()
    if game is None:
        return None
    start = getattr(Broadcast.objects.filter(game=game).first(), "started_at", None) or game.starts_at
    return max(0.0, clock.now() - max(start, window_start([game_id])).timestamp())


def horizon_delay(horizon: datetime, *, game_ids) -> float:
    """The delay behind the clock this horizon means (0 for one in the future); refused before the window."""
    if horizon < window_start(game_ids):
        raise ApplicationError(
            "The horizon is before the stream's DVR window.", code="horizon_out_of_window", status=422
        )
    return max(0.0, clock.now() - horizon.timestamp())


class Horizon:
    """One socket's position: its delay behind the clock, and the rewinds it reported lately."""

    __slots__ = ("delay", "rewinds")

    def __init__(self):
        self.delay = 0.0
        self.rewinds: deque[float] = deque()

    def move(self, delay: float) -> float:
        """Take a new delay; a rewind past the rate is refused and the old delay kept."""
        now = clock.now()
        if delay > self.delay + REWIND_TOLERANCE_SECONDS:
            while self.rewinds and self.rewinds[0] <= now - RATE_WINDOW_SECONDS:
                self.rewinds.popleft()
            if len(self.rewinds) >= settings.LIVE_ALIGN_REWINDS_PER_MINUTE:
                raise ApplicationError(
                    f"At most {settings.LIVE_ALIGN_REWINDS_PER_MINUTE} rewinds a minute; the horizon is unchanged.",
                    code="rate_limited",
                    extra={"retry_after": round(self.rewinds[0] + RATE_WINDOW_SECONDS - now, 1)},
                )
            self.rewinds.append(now)
        self.delay = delay
        return delay

    def at(self) -> datetime:
        """The horizon now."""
        return datetime.fromtimestamp(clock.now() - self.delay, UTC)

    def data(self) -> dict:
        return {"horizon": datetime_text(self.at()), "delay": round(self.delay, 3)}
