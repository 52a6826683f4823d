"""Catch-up: where a viewer can start a game's stream, what they missed, its key moments on the recording.

Composes the live part (the broadcast, the timed play-by-play) and the viewing part (progress: on a game's
`full_game` recording, `position_seconds` is the offset into the stream, so the frame time is the stream's
start plus it). Spoiler-safe (content.spoilers): a viewer who holds the game gets nothing past the position
they name or have reached.
"""

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone

from accounts.entitlements import user_grants
from content.models import Content, Game
from content.selectors import content_visible_to
from content.services.rights import game_facts, unlocked
from content.spoilers import spoilers_for
from csn.errors import ApplicationError, NotFoundError
from csn.representation import datetime_text
from streaming.live.models import Broadcast, GameEvent
from streaming.live.selectors import access_game, game_state_at
from streaming.viewing.selectors import progress_get

MAX_MOMENTS = 200


def position_parse(value, *, field: str = "position") -> float | None:
    """A position in seconds from a query string: a finite number >= 0, else `invalid` naming the field."""
    if value is None or value == "":
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    if not math.isfinite(number) or number < 0 or len(str(value)) > 32:
        message = "A position is a number of seconds, 0 or more."
        raise ApplicationError(message, code="invalid", fields={field: [{"code": "invalid", "message": message}]})
    return number


@dataclass(frozen=True)
class Stream:
    game: Game
    broadcast: Broadcast | None
    started_at: datetime  # the first frame (the game's start time until the broadcast says otherwise)
    recording: Content | None  # the game's `full_game` item, if the viewer may see one

    def offset(self, moment: datetime) -> float:
        return max(0.0, (moment - self.started_at).total_seconds())

    def moment(self, offset: float) -> datetime:
        return self.started_at + timedelta(seconds=offset)


def stream_of(*, user, game: Game) -> Stream:
    broadcast = Broadcast.objects.filter(game=game).first()
    started = (broadcast.started_at if broadcast else None) or game.starts_at
    recording = (
        content_visible_to(user=user)
        .filter(game=game, type=Content.Type.FULL_GAME)
        .order_by("-published_at", "-id")
        .first()
    )
    return Stream(game=game, broadcast=broadcast, started_at=started, recording=recording)


def moment_data(play: GameEvent, stream: Stream) -> dict:
    return {
        "id": play.pk,
        "kind": play.key_moment,
        "description": play.description,
        "period": play.period,
        "clock": play.clock,
        "offset_seconds": round(stream.offset(play.occurred_at), 3),
        "occurred_at": datetime_text(play.occurred_at),
    }


def key_moments(stream: Stream, *, up_to: float | None) -> tuple[list[dict], int]:
    """The game's key plays in stream order up to `up_to` seconds (None: all), and how many come after."""
    plays = GameEvent.objects.filter(game=stream.game).exclude(key_moment="").order_by("occurred_at", "id")
    if up_to is None:
        return [moment_data(p, stream) for p in plays[:MAX_MOMENTS]], 0
    until = stream.moment(up_to)
    shown = [moment_data(p, stream) for p in plays.filter(occurred_at__lte=until)[:MAX_MOMENTS]]
    return shown, plays.filter(occurred_at__gt=until).count()


def _resume_offset(*, user, stream: Stream) -> float | None:
    if stream.recording is None or not user.is_authenticated:
        return None
    progress = progress_get(user=user, content_id=stream.recording.pk)
    return None if progress is None else float(progress.position_seconds)


def content_moments(*, user, content_id: int, position: float | None) -> dict:
    """`GET /content/{id}/moments/`: the key moments of the game an item records, with offsets into it."""
    content = content_visible_to(user=user).select_related("game").filter(pk=content_id).first()
    if content is None:
        raise NotFoundError("No such content.")
    if content.game is None:
        return {"content": content.pk, "game": None, "position_seconds": None, "moments": [], "hidden_after": 0}
    stream = stream_of(user=user, game=content.game)
    held = spoilers_for(user).holds(content.game)
    if held and position is None:
        position = _resume_offset(user=user, stream=stream) if stream.recording else None
        position = position or 0.0
    moments, hidden = key_moments(stream, up_to=position if held else None)
    return {
        "content": content.pk,
        "game": content.game_id,
        "position_seconds": position if held else None,
        "moments": moments,
        "hidden_after": hidden,
    }


def game_playback(*, user, game_id: int, position: float | None) -> dict:
    """`GET /games/{id}/playback/`: the live edge, the stream's start and DVR window, where the viewer can
    start (live edge, kickoff, where they left off) and what they missed up to a position."""
    game = access_game(game_id)
    stream = stream_of(user=user, game=game)
    now = timezone.now()
    edge = stream.offset(now)
    broadcast = stream.broadcast
    window = broadcast.dvr_window_seconds if broadcast else None
    locked = bool(broadcast and broadcast.is_premium and not unlocked(user_grants(user=user), game_facts(game)))
    choices = [
        {"kind": "live_edge", "offset_seconds": round(edge, 3), "horizon": datetime_text(now)},
        {"kind": "kickoff", "offset_seconds": 0.0, "horizon": datetime_text(stream.started_at)},
    ]
    resume = _resume_offset(user=user, stream=stream)
    if resume is not None:
        resume = min(resume, edge)
        choices.append(
            {
                "kind": "where_you_left_off",
                "offset_seconds": round(resume, 3),
                "horizon": datetime_text(stream.moment(resume)),
            }
        )
    policy = spoilers_for(user)
    held = policy.holds(game)
    up_to = min(position, edge) if position is not None else (resume if resume is not None else (0.0 if held else edge))
    moments, hidden = key_moments(stream, up_to=up_to)
    state = game_state_at(game, stream.moment(up_to))
    derived = GameEvent.objects.filter(game=game).exists()  # else the score at a position is unknown
    score_hidden = held and not derived
    return {
        "game": game.pk,
        "status": game.status,
        "manifest_url": None if locked or not broadcast else (broadcast.manifest_url or None),
        "locked": locked,
        "stream_started_at": datetime_text(stream.started_at),
        "live_edge": datetime_text(now),
        "live_edge_offset_seconds": round(edge, 3),
        "dvr_window_seconds": window,
        "dvr_start": datetime_text(max(stream.started_at, now - timedelta(seconds=window)) if window else None),
        "recording": stream.recording.pk if stream.recording else None,
        "choices": choices,
        "missed": {
            "up_to_seconds": round(up_to, 3),
            "home_score": None if score_hidden else state["home_score"],
            "away_score": None if score_hidden else state["away_score"],
            "score_hidden": score_hidden,
            "moments": moments,
            "hidden_after": hidden,
        },
    }
