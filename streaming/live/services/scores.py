"""Scores and play-by-play: a scorekeeper's update of a game, broadcast on the game topic."""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from content.models import Game
from csn.errors import ApplicationError, ConflictError, NotFoundError, PermissionDeniedError
from csn.realtime.publish import publish
from streaming.live.announcements import GameWentLive, game_went_live
from streaming.live.models import Broadcast, GameChat, GameEvent
from streaming.live.permissions import can_keep_score, can_mark_moments
from streaming.live.representation import game_state, play_data
from streaming.live.selectors import game_locked
from streaming.live.services.chat import chat_settings_publish
from streaming.live.services.engagement import predictions_on_play
from streaming.live.topics import game_topic

STATUS_TRANSITIONS = {
    Game.Status.SCHEDULED: {Game.Status.LIVE},
    Game.Status.POSTPONED: {Game.Status.LIVE},
    Game.Status.LIVE: {Game.Status.FINAL},
    Game.Status.FINAL: set(),
}


@transaction.atomic
def game_event_record(
    *,
    actor,
    game_id: int,
    home_score: int | None = None,
    away_score: int | None = None,
    period: str | None = None,
    clock: str | None = None,
    status: str | None = None,
    description: str = "",
    occurred_at: datetime | None = None,
    key_moment: str = "",
) -> GameEvent:
    """A scorekeeper's update: one transaction changes the game and appends the play-by-play entry;
    the `game.event` broadcast follows the commit. scheduled -> live -> final only. `occurred_at` is the
    play's wall-clock time (default: now; one in the future counts as now, one before the DVR window
    bound is refused): aligned sockets get the event when their horizon passes it."""
    if not can_keep_score(actor):
        raise PermissionDeniedError("Only scorekeepers post game events.", code="permission_denied")
    now = timezone.now()
    occurred_at = min(occurred_at or now, now)
    if occurred_at < now - timedelta(seconds=settings.LIVE_ALIGN_MAX_DELAY_SECONDS):
        raise ApplicationError(
            "`occurred_at` is further back than any stream can be rewound.",
            code="occurred_at_out_of_range",
            fields={"occurred_at": [{"code": "occurred_at_out_of_range", "message": "Too far in the past."}]},
        )
    game = game_locked(game_id)
    before = {"home_score": game.home_score, "away_score": game.away_score}
    changed = []
    for field, value in (("home_score", home_score), ("away_score", away_score), ("period", period), ("clock", clock)):
        if value is not None and getattr(game, field) != value:
            setattr(game, field, value)
            changed.append(field)
    went_live = False
    if status is not None and status != game.status:
        if status not in STATUS_TRANSITIONS.get(game.status, set()):
            raise ConflictError(f"A {game.status} game cannot become {status}.", code="invalid_transition")
        went_live = status == Game.Status.LIVE
        game.status = status
        changed.append("status")
    description = (description or "").strip()
    if not changed and not description and not key_moment:
        raise ApplicationError("Nothing to record.", code="empty_event")
    if game.status != Game.Status.LIVE and "status" not in changed and {"home_score", "away_score"} & set(changed):
        raise ConflictError("Scores change only while the game is live.", code="game_not_live")
    game.save()
    event = GameEvent.objects.create(
        game=game,
        description=description,
        status=game.status,
        home_score=game.home_score,
        away_score=game.away_score,
        period=game.period,
        clock=game.clock,
        changed=changed,
        created_by=actor,
        occurred_at=occurred_at,
        key_moment=key_moment or "",
    )
    if went_live:
        broadcast_started(game=game, at=occurred_at)
    game = Game.objects.select_related("home_team", "away_team").get(pk=game.pk)
    publish(
        topic=game_topic(game.pk),
        name="game.event",
        data={"game": game_state(game), "play": play_data(event)},
        at=occurred_at,
    )
    predictions_on_play(game=game, event=event, before=before)
    if "status" in changed:
        chat_settings_publish(game, GameChat.objects.filter(game=game).first())
    if went_live:
        game_went_live.announce(GameWentLive(game=game))
    return event


def broadcast_started(*, game, at: datetime) -> None:
    """A game went live: its broadcast's first frame is now, unless the broadcast already says when."""
    Broadcast.objects.filter(game=game, started_at=None).update(started_at=at)


@transaction.atomic
def play_key_moment_set(*, actor, play_id: int, key_moment: str) -> GameEvent:
    """Mark a play as a key moment (goal, red card...) or unmark it (""), after the fact: the key-moment
    timeline of the game's recording lists it. Scorekeepers and editors."""
    if not can_mark_moments(actor):
        raise PermissionDeniedError("Only scorekeepers and editors mark key moments.", code="permission_denied")
    play = GameEvent.objects.select_for_update().filter(pk=play_id).first()
    if play is None:
        raise NotFoundError("No such play.", code="not_found")
    play.key_moment = key_moment
    play.save(update_fields=["key_moment"])
    return play
