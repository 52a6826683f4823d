"""What fans do besides typing: the pinned message, reactions to the game, polls and predictions."""

import threading
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Case, Value, When
from django.utils import timezone

from analytics import events
from content.models import Game
from csn.errors import ApplicationError, ConflictError, NotFoundError, PermissionDeniedError
from csn.realtime.publish import publish, publish_many
from csn.representation import datetime_text
from streaming.live.models import (
    ChatMessage,
    GameChat,
    GameEvent,
    Poll,
    PollVote,
    Prediction,
    PredictionPick,
    ReactionSecond,
)
from streaming.live.permissions import moderator_required
from streaming.live.representation import chat_message_data, poll_data, prediction_data
from streaming.live.selectors import game_locked, polls_data
from streaming.live.services.audit import audit_record
from streaming.live.topics import chat_topic, game_topic


@transaction.atomic
def chat_message_pin(*, actor, game_id: int, message_id: int | None, reason: str = "") -> GameChat:
    """A moderator pins a visible message of the game's chat (None unpins). It is in the chat's
    snapshot; followers get `chat.pinned` with the message (or null)."""
    moderator_required(actor)
    game = game_locked(game_id)
    message = None
    if message_id is not None:
        message = (
            ChatMessage.objects.select_related("reply_to")
            .filter(pk=message_id, game=game, status=ChatMessage.Status.PUBLISHED, deleted_at=None)
            .first()
        )
        if message is None:
            raise ApplicationError("Pin a visible message of this chat.", code="invalid_pin")
    chat, _ = GameChat.objects.select_for_update().get_or_create(game=game)
    chat.pinned_message = message
    chat.save(update_fields=["pinned_message", "updated_at"])
    publish(
        topic=chat_topic(game.pk),
        name="chat.pinned",
        data={"message": chat_message_data(message) if message else None},
    )
    audit_record(
        actor=actor,
        action="message_pinned" if message else "message_unpinned",
        game_id=game.pk,
        message_id=message.pk if message else None,
        target_user_id=message.user_id if message else None,
        reason=reason,
    )
    return chat


# --- reactions to the game ---------------------------------------------------------------------------
# Each process counts its sockets' reactions for a second (streaming.live.reactions), then adds them to
# every process's sum in Redis; the first process to claim the game-second publishes the counts frame
# once the others have added theirs. Without Redis there is one process: it publishes what it counted.

_redis = None
_redis_lock = threading.Lock()
REACTION_KEY_SECONDS = 60


def _redis_client():
    global _redis
    with _redis_lock:
        if _redis is None:
            import redis

            _redis = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=2)
    return _redis


def _reaction_key(kind: str, game_id: int, second: int) -> str:
    return f"{settings.LIVE_REDIS_CHANNEL_PREFIX}reactions.{kind}:{game_id}:{second}"


def reactions_sampled_record(*, sampled: list[tuple[int, int, str]]) -> None:
    """The sampled analytics of reactions: a user's first reaction to a game in each minute."""
    with transaction.atomic():
        for user_id, game_id, emoji in sampled:
            events.reaction_sent(user_id=user_id, game_id=game_id, emoji=emoji)


def reactions_flush(*, second: int, counts: dict[int, dict[str, int]]) -> list[int]:
    """One process's reactions of one second, added to the sum of every process. Returns the games
    whose counts frame for this second this process publishes (it claimed them first)."""
    if not counts or not settings.REDIS_URL:
        return list(counts)
    pipe = _redis_client().pipeline(transaction=False)
    games = list(counts)
    for game_id in games:
        key = _reaction_key("sum", game_id, second)
        for emoji, count in counts[game_id].items():
            pipe.hincrby(key, emoji, count)
        pipe.expire(key, REACTION_KEY_SECONDS)
    for game_id in games:
        pipe.set(_reaction_key("lead", game_id, second), 1, nx=True, ex=REACTION_KEY_SECONDS)
    claimed = pipe.execute()[-len(games) :]
    return [game_id for game_id, won in zip(games, claimed, strict=True) if won]


def reactions_second_publish(*, game_id: int, second: int, local: dict[str, int]) -> ReactionSecond | None:
    """The counts frame of one game-second (`game.reactions` on `game:<id>`), and its row kept for
    editors' key moments. `local` is this process's own count, used when there is no Redis."""
    if settings.REDIS_URL:
        raw = _redis_client().hgetall(_reaction_key("sum", game_id, second))
        counts = {key.decode(): int(value) for key, value in raw.items()}
    else:
        counts = dict(local)
    counts = {emoji: counts[emoji] for emoji in settings.LIVE_REACTIONS if counts.get(emoji)}
    total = sum(counts.values())
    if not total:
        return None
    at = datetime.fromtimestamp(second, tz=UTC)
    with transaction.atomic():
        if not Game.objects.filter(pk=game_id).exists():
            return None
        row, created = ReactionSecond.objects.get_or_create(
            game_id=game_id, second=at, defaults={"counts": counts, "total": total}
        )
        if created:
            publish(
                topic=game_topic(game_id),
                name="game.reactions",
                data={"second": datetime_text(at), "counts": counts, "total": total},
            )
    return row


# --- polls ------------------------------------------------------------------------------------------

POLL_MAX_SECONDS = 6 * 3600


@transaction.atomic
def poll_create(*, actor, game_id: int, question, options, closes_at, opens_at=None) -> Poll:
    """A moderator asks the game's chat a question with 2 to 5 distinct options, open from `opens_at`
    (now when empty) to `closes_at` (at most 6 hours later). Followers get `poll.opened`."""
    moderator_required(actor)
    game = game_locked(game_id)
    now = timezone.now()
    opens_at = opens_at or now
    question = question.strip() if isinstance(question, str) else ""
    if not question or len(question) > 200:
        raise ApplicationError("A question is 1 to 200 characters.", code="invalid_poll")
    if not isinstance(options, list) or not all(isinstance(o, str) for o in options):
        raise ApplicationError("`options` is a list of texts.", code="invalid_poll")
    options = [o.strip() for o in options]
    if not 2 <= len(options) <= 5 or not all(0 < len(o) <= 80 for o in options) or len(set(options)) < len(options):
        raise ApplicationError("A poll has 2 to 5 distinct options of 1 to 80 characters.", code="invalid_poll")
    # A difference, never a sum: a date near the calendar's end must not overflow.
    if not timedelta(0) < closes_at - opens_at <= timedelta(seconds=POLL_MAX_SECONDS) or closes_at <= now:
        raise ApplicationError("A poll closes after it opens, in the future, within 6 hours.", code="invalid_poll")
    poll = Poll.objects.create(
        game=game, question=question, options=options, opens_at=opens_at, closes_at=closes_at, created_by=actor
    )
    publish(topic=chat_topic(game.pk), name="poll.opened", data=poll_data(poll, counts={}, now=now))
    audit_record(actor=actor, action="poll_created", game_id=game.pk, poll=poll.pk, question=question)
    return poll


def poll_vote(*, user, poll_id, option) -> PollVote:
    """One vote per account, changed freely until the poll closes (an upsert: concurrent votes of one
    user leave one row). A closed or not yet open poll is `poll_closed`; an unknown option
    `invalid_option`. The counts frame follows within a second (`streaming.live.reactions`)."""
    if not user or not user.is_authenticated:
        raise PermissionDeniedError("Sign in to vote.", code="auth_required")
    if not isinstance(poll_id, int) or isinstance(poll_id, bool) or not 0 < poll_id < 2**63:
        raise ApplicationError("`poll` is a poll id.", code="invalid_message")
    poll = Poll.objects.filter(pk=poll_id).first()
    if poll is None:
        raise NotFoundError("No such poll.", code="not_found")
    now = timezone.now()
    if not poll.opens_at <= now < poll.closes_at:
        raise ConflictError("This poll is not open.", code="poll_closed")
    if not isinstance(option, int) or isinstance(option, bool) or not 0 <= option < len(poll.options):
        raise ApplicationError(f"`option` is 0 to {len(poll.options) - 1}.", code="invalid_option")
    with transaction.atomic():
        (vote,) = PollVote.objects.bulk_create(
            [PollVote(poll=poll, user=user, option=option, voted_at=now)],
            update_conflicts=True,
            unique_fields=["poll", "user"],
            update_fields=["option", "voted_at"],
        )
        events.poll_voted(user_id=user.pk, game_id=poll.game_id, poll_id=poll.pk, option=option)
    vote.poll = poll
    return vote


def polls_counts_publish(*, second: int, poll_ids) -> int:
    """The counts frame (`poll.counts` on the game's chat) of each poll voted on in `second`: one per
    poll per second across processes (the first to claim it in Redis publishes)."""
    poll_ids = list(poll_ids)
    if settings.REDIS_URL and poll_ids:
        pipe = _redis_client().pipeline(transaction=False)
        for poll_id in poll_ids:
            pipe.set(_reaction_key("poll", poll_id, second), 1, nx=True, ex=REACTION_KEY_SECONDS)
        poll_ids = [poll_id for poll_id, won in zip(poll_ids, pipe.execute(), strict=True) if won]
    if not poll_ids:
        return 0
    with transaction.atomic():
        polls = list(Poll.objects.filter(pk__in=poll_ids))
        data = polls_data(polls, user=None)
        publish_many([(chat_topic(p.game_id), "poll.counts", d) for p, d in zip(polls, data, strict=True)])
    return len(polls)


# --- predictions ------------------------------------------------------------------------------------


@transaction.atomic
def prediction_create(*, actor, game_id: int, kind, line=None, lock_at_kickoff: bool = True, locks_at=None):
    """A moderator opens a prediction on a game that has not ended. Over/under needs a `line`."""
    moderator_required(actor)
    game = game_locked(game_id)
    if kind not in Prediction.Kind.values:
        raise ApplicationError(f"`kind` is one of {', '.join(Prediction.Kind.values)}.", code="invalid_prediction")
    if game.status == Game.Status.FINAL:
        raise ConflictError("The game has ended.", code="game_final")
    if (kind == Prediction.Kind.OVER_UNDER) != (line is not None):
        raise ApplicationError("Over/under takes a `line`; the others none.", code="invalid_prediction")
    if kind != Prediction.Kind.NEXT_SCORE and lock_at_kickoff and game.status == Game.Status.LIVE:
        raise ConflictError("The game has kicked off: open it without the kickoff lock.", code="game_live")
    prediction = Prediction.objects.create(
        game=game, kind=kind, line=line, lock_at_kickoff=lock_at_kickoff, locks_at=locks_at, created_by=actor
    )
    publish(topic=chat_topic(game.pk), name="prediction.opened", data=prediction_data(prediction))
    audit_record(actor=actor, action="prediction_created", game_id=game.pk, prediction=prediction.pk, kind=kind)
    return prediction


def prediction_pick(*, user, prediction_id, choice) -> PredictionPick:
    """A user's pick (changed freely until the prediction locks): `prediction_locked` once locked,
    `invalid_choice` outside its choices."""
    if not user or not user.is_authenticated:
        raise PermissionDeniedError("Sign in to predict.", code="auth_required")
    if not isinstance(prediction_id, int) or isinstance(prediction_id, bool) or not 0 < prediction_id < 2**63:
        raise ApplicationError("`prediction` is a prediction id.", code="invalid_message")
    with transaction.atomic():
        prediction = Prediction.objects.select_for_update().filter(pk=prediction_id).first()
        if prediction is None:
            raise NotFoundError("No such prediction.", code="not_found")
        now = timezone.now()
        if prediction.status != Prediction.Status.OPEN or (prediction.locks_at and prediction.locks_at <= now):
            raise ConflictError("This prediction is locked.", code="prediction_locked")
        if choice not in Prediction.CHOICES[prediction.kind]:
            raise ApplicationError(
                f"`choice` is one of {', '.join(Prediction.CHOICES[prediction.kind])}.", code="invalid_choice"
            )
        (pick,) = PredictionPick.objects.bulk_create(
            [PredictionPick(prediction=prediction, user=user, choice=choice, picked_at=now)],
            update_conflicts=True,
            unique_fields=["prediction", "user"],
            update_fields=["choice", "picked_at"],
        )
        events.prediction_made(
            user_id=user.pk, game_id=prediction.game_id, prediction_id=prediction.pk, kind=prediction.kind
        )
    return pick


def predictions_on_play(*, game: Game, event: GameEvent, before: dict) -> None:
    """Called by the scorekeeper's service in its transaction: kickoff locks; a score change resolves
    "who scores next"; the final whistle resolves winner and over/under (and voids what is left)."""
    changed = set(event.changed)
    live = Prediction.objects.filter(game=game, status__in=[Prediction.Status.OPEN, Prediction.Status.LOCKED])
    resolved: list[Prediction] = []
    if "status" in changed and game.status == Game.Status.LIVE:
        live.filter(lock_at_kickoff=True, status=Prediction.Status.OPEN).exclude(
            kind=Prediction.Kind.NEXT_SCORE
        ).update(status=Prediction.Status.LOCKED)
    home_up = game.home_score > before["home_score"]
    away_up = game.away_score > before["away_score"]
    if home_up or away_up:
        outcome = "" if home_up and away_up else ("home" if home_up else "away")
        resolved += _resolve(live.filter(kind=Prediction.Kind.NEXT_SCORE), outcome, event)
    if "status" in changed and game.status == Game.Status.FINAL:
        if game.home_score == game.away_score:
            winner = "draw"
        else:
            winner = "home" if game.home_score > game.away_score else "away"
        resolved += _resolve(live.filter(kind=Prediction.Kind.WINNER), winner, event)
        total = game.home_score + game.away_score
        for prediction in live.filter(kind=Prediction.Kind.OVER_UNDER):
            outcome = "" if total == prediction.line else ("over" if total > prediction.line else "under")
            resolved += _resolve(Prediction.objects.filter(pk=prediction.pk), outcome, event)
        resolved += _resolve(live.filter(kind=Prediction.Kind.NEXT_SCORE), "", event)
    if resolved:
        publish_many([(chat_topic(game.pk), "prediction.resolved", prediction_data(p)) for p in resolved])


def _resolve(predictions, outcome: str, event: GameEvent) -> list[Prediction]:
    """Close the predictions with `outcome` ("" voids them) and mark each pick right or wrong."""
    rows = list(predictions.select_for_update())
    if not rows:
        return []
    now = timezone.now()
    for prediction in rows:
        prediction.status = Prediction.Status.RESOLVED if outcome else Prediction.Status.VOID
        prediction.outcome, prediction.resolved_by, prediction.resolved_at = outcome, event, now
    Prediction.objects.bulk_update(rows, ["status", "outcome", "resolved_by", "resolved_at"])
    picks = PredictionPick.objects.filter(prediction__in=rows)
    if outcome:
        picks.update(correct=Case(When(choice=outcome, then=Value(True)), default=Value(False)))
    return rows
