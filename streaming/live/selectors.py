"""Reads for the live area: topic snapshots, viewer counts, who may do what."""

from datetime import timedelta

from django.conf import settings
from django.db import models, transaction
from django.db.models import Count, Q
from django.utils import timezone

from content.models import Game
from content.services import presence
from content.services.presence import STUDIO
from csn.errors import NotFoundError, PermissionDeniedError
from csn.realtime.log import current_seq, seq_at
from csn.realtime.topics import USER_TOPIC
from streaming.live.models import (
    Broadcast,
    ChatMessage,
    ChatReport,
    GameChat,
    GameEvent,
    LiveSession,
    Poll,
    PollVote,
    Prediction,
    PredictionPick,
)
from streaming.live.permissions import can_moderate
from streaming.live.representation import (
    chat_message_data,
    chat_settings_data,
    game_state,
    held_message_data,
    play_data,
    poll_data,
    prediction_data,
    report_data,
)
from streaming.live.topics import GAME, MOD


def chat_is_open(game: Game, chat: GameChat | None) -> bool:
    return game.status == Game.Status.LIVE or bool(chat and chat.opened_early and game.status != Game.Status.FINAL)


def viewer_count(*, game_id: int) -> int:
    since = timezone.now() - timedelta(seconds=settings.LIVE_PRESENCE_TIMEOUT_SECONDS)
    return LiveSession.objects.filter(game_id=game_id, ended_at=None, last_heartbeat_at__gte=since).count()


def open_sessions(*, user) -> list[LiveSession]:
    """The user's viewing sessions still alive, newest first: what counts against the stream limit."""
    since = timezone.now() - timedelta(seconds=settings.LIVE_PRESENCE_TIMEOUT_SECONDS)
    return list(
        LiveSession.objects.filter(user=user, ended_at=None, last_heartbeat_at__gte=since).order_by("-started_at")
    )


def access_game(game_id: int) -> Game:
    """The game with its teams; a game that does not exist is a not-found error (every game is public)."""
    game = Game.objects.select_related("home_team", "away_team").filter(pk=game_id).first()
    if game is None:
        raise NotFoundError("No such game.", code="not_found")
    return game


HOME_GAMES_LIMIT = 20
LATE_START_GRACE = timedelta(hours=3)  # a game not started on time is still upcoming for this long


def games_to_watch() -> list[Game]:
    """The home page's games: live ones first, then the next scheduled, soonest first (a short list)."""
    games = Game.objects.select_related("home_team", "away_team").order_by("starts_at", "id")
    live = list(games.filter(status=Game.Status.LIVE)[:HOME_GAMES_LIMIT])
    since = timezone.now() - LATE_START_GRACE
    upcoming = games.filter(status=Game.Status.SCHEDULED, starts_at__gte=since)[: HOME_GAMES_LIMIT - len(live)]
    return live + list(upcoming)


def game_locked(game_id) -> Game:
    """The game's row, locked until the caller's transaction ends (writers of one game serialize)."""
    game = Game.objects.select_for_update().filter(pk=game_id).first()
    if game is None:
        raise NotFoundError("No such game.", code="not_found")
    return game


def topic_snapshot(*, topic: str, kind: str, ident: int | None, user) -> tuple[int, dict]:
    """The topic's current state and the seq it matches exactly (writers wait on the counter lock)."""
    with transaction.atomic():
        if kind == USER_TOPIC:
            seq = current_seq(topic, lock=True)
            return seq, {"user": {"id": user.pk, "name": user.display_name}}
        if kind == STUDIO:
            presence.studio_access(user=user, content_id=ident)
            seq = current_seq(topic, lock=True)
            return seq, {"editors": presence.editors_of(content_id=ident)}
        game = topic_access(kind=kind, ident=ident, user=user)
        seq = current_seq(topic, lock=True)
        if kind == GAME:
            plays = GameEvent.objects.filter(game=game).order_by("-created_at", "-id")[: settings.LIVE_SNAPSHOT_PLAYS]
            return seq, {
                "game": game_state(game),
                "plays": [play_data(p) for p in plays],
                "viewers": viewer_count(game_id=game.pk),
            }
        if kind == MOD:
            return seq, moderation_queue(game_id=game.pk)
        chat = GameChat.objects.filter(game=game).select_related("pinned_message__reply_to").first()
        visible = Q(status=ChatMessage.Status.PUBLISHED)
        if user is not None and user.is_authenticated:
            visible |= Q(status=ChatMessage.Status.HELD, user_id=user.pk)  # the author sees theirs, pending
        messages = (
            ChatMessage.objects.filter(visible, game=game, deleted_at=None)
            .select_related("reply_to")
            .order_by("-created_at", "-id")[: settings.LIVE_SNAPSHOT_CHAT_MESSAGES]
        )
        pinned = chat.pinned_message if chat else None
        return seq, {
            **chat_settings_data(chat, open_now=chat_is_open(game, chat)),
            "pinned": chat_message_data(pinned) if pinned and pinned.deleted_at is None else None,
            "messages": [chat_message_data(m) for m in reversed(messages)],
            "polls": game_polls(game_id=game.pk, user=user),
            "predictions": [prediction_data(p) for p in Prediction.objects.filter(game=game)[:SNAPSHOT_PREDICTIONS]],
        }


def game_state_at(game: Game, horizon) -> dict:
    """The game as it stood at `horizon`: the state its last play at or before it left behind. Before its
    first play, a game that has plays is shown scheduled at 0-0 (what it was before the scorekeeper began)."""
    state = game_state(game)
    plays = GameEvent.objects.filter(game=game)
    last = plays.filter(occurred_at__lte=horizon).order_by("-occurred_at", "-id").first()
    if last is None and not plays.exists():
        return state
    if last is None:
        return {**state, "status": Game.Status.SCHEDULED, "home_score": 0, "away_score": 0, "period": "", "clock": ""}
    return {
        **state,
        **{field: getattr(last, field) for field in ("status", "home_score", "away_score", "period", "clock")},
    }


def topic_snapshot_at(*, topic: str, kind: str, ident: int, horizon) -> tuple[int, dict]:
    """An aligned snapshot: the topic's state at `horizon` and the seq it matches (the seq before the first
    event timed after the horizon); nothing after the horizon is in it."""
    with transaction.atomic():
        game = access_game(ident)
        current_seq(topic, lock=True)
        seq = seq_at(topic=topic, moment=horizon)
        if kind == GAME:
            plays = GameEvent.objects.filter(game=game, occurred_at__lte=horizon).order_by("-occurred_at", "-id")
            return seq, {
                "game": game_state_at(game, horizon),
                "plays": [play_data(p) for p in plays[: settings.LIVE_SNAPSHOT_PLAYS]],
                "viewers": viewer_count(game_id=game.pk),
            }
        chat = GameChat.objects.filter(game=game).select_related("pinned_message__reply_to").first()
        messages = (
            ChatMessage.objects.filter(
                game=game, status=ChatMessage.Status.PUBLISHED, deleted_at=None, created_at__lte=horizon
            )
            .select_related("reply_to")
            .order_by("-created_at", "-id")[: settings.LIVE_SNAPSHOT_CHAT_MESSAGES]
        )
        pinned = chat.pinned_message if chat else None
        pinned_visible = pinned is not None and pinned.deleted_at is None and pinned.created_at <= horizon
        polls = list(Poll.objects.filter(game=game, created_at__lte=horizon)[:SNAPSHOT_POLLS])
        predictions = Prediction.objects.filter(game=game, created_at__lte=horizon)[:SNAPSHOT_PREDICTIONS]
        return seq, {
            **chat_settings_data(chat, open_now=chat_is_open(game, chat)),
            "pinned": chat_message_data(pinned) if pinned_visible else None,
            "messages": [chat_message_data(m) for m in reversed(messages)],
            "polls": polls_data(polls, user=None),
            "predictions": [prediction_data(p) for p in predictions],
        }


CHAT_REPLAY_MAX_SECONDS = 600
CHAT_REPLAY_MAX_MESSAGES = 500


def stream_started_at(game: Game):
    """The wall-clock time of the game's first frame: its broadcast's, else its scheduled start."""
    broadcast = Broadcast.objects.filter(game=game).first()
    return (broadcast.started_at if broadcast else None) or game.starts_at


def chat_replay(*, game_id: int, start: float, end: float) -> dict:
    """Chat messages between two offsets (seconds into the stream), oldest first, moderated ones left out:
    a recording's viewer gets the chat in step with the position. At most `CHAT_REPLAY_MAX_SECONDS` a call."""
    game = access_game(game_id)
    started = stream_started_at(game)
    messages = (
        ChatMessage.objects.filter(
            game=game,
            status=ChatMessage.Status.PUBLISHED,
            deleted_at=None,
            created_at__gte=started + timedelta(seconds=start),
            created_at__lt=started + timedelta(seconds=end),
        )
        .select_related("reply_to")
        .order_by("created_at", "id")[: CHAT_REPLAY_MAX_MESSAGES + 1]
    )
    rows = list(messages)
    return {
        "game": game.pk,
        "stream_started_at": started,
        "from": start,
        "to": end,
        "truncated": len(rows) > CHAT_REPLAY_MAX_MESSAGES,
        "messages": [
            {**chat_message_data(m), "offset_seconds": round((m.created_at - started).total_seconds(), 3)}
            for m in rows[:CHAT_REPLAY_MAX_MESSAGES]
        ],
    }


SNAPSHOT_POLLS = 5
SNAPSHOT_PREDICTIONS = 10


def game_polls(*, game_id: int, user, limit: int = SNAPSHOT_POLLS) -> list[dict]:
    """The game's latest polls with their counts (and the reader's vote), newest first."""
    polls = list(Poll.objects.filter(game_id=game_id)[:limit])
    return polls_data(polls, user=user)


def polls_data(polls: list[Poll], *, user) -> list[dict]:
    ids = [poll.pk for poll in polls]
    counts: dict[int, dict[int, int]] = {}
    for poll_id, option, n in (
        PollVote.objects.filter(poll_id__in=ids).values_list("poll_id", "option").annotate(n=Count("id"))
    ):
        counts.setdefault(poll_id, {})[option] = n
    mine = {}
    if user is not None and user.is_authenticated:
        mine = dict(PollVote.objects.filter(poll_id__in=ids, user_id=user.pk).values_list("poll_id", "option"))
    now = timezone.now()
    return [poll_data(p, counts=counts.get(p.pk, {}), now=now, your_vote=mine.get(p.pk)) for p in polls]


def prediction_record(*, user) -> dict:
    """A user's record over resolved predictions: picks made, right, wrong."""
    picks = PredictionPick.objects.filter(user_id=user.pk, prediction__status=Prediction.Status.RESOLVED)
    record = picks.aggregate(
        made=Count("id"), right=Count("id", filter=Q(correct=True)), missed=Count("id", filter=Q(correct=False))
    )
    return {"resolved": record["made"], "correct": record["right"], "wrong": record["missed"]}


def topic_access(*, kind: str, ident: int, user) -> Game:
    """Whether the user may follow the topic: every game's `game` and `chat`; `mod` is moderators' only
    (`forbidden_topic`). An unknown game is not found."""
    if kind == MOD and not can_moderate(user):
        raise PermissionDeniedError("Only moderators follow this topic.", code="forbidden_topic")
    return access_game(ident)


MOD_QUEUE_LIMIT = 100


def moderation_queue(*, game_id: int) -> dict:
    """The moderators' queue of one chat, oldest first: held messages and open reports (each with the
    message, what was said before it and the reporter's history)."""
    held = (
        ChatMessage.objects.filter(game_id=game_id, status=ChatMessage.Status.HELD, deleted_at=None)
        .select_related("reply_to")
        .order_by("created_at", "id")[:MOD_QUEUE_LIMIT]
    )
    reports = (
        ChatReport.objects.filter(game_id=game_id, status=ChatReport.Status.OPEN)
        .select_related("message__reply_to", "reporter")
        .order_by("created_at", "id")[:MOD_QUEUE_LIMIT]
    )
    return {"held": [held_message_data(m) for m in held], "reports": [report_queue_item(r) for r in reports]}


def report_queue_item(report: ChatReport) -> dict:
    """One report as moderators work it: the message, its context, the reporter's record."""
    message = report.message
    context = (
        ChatMessage.objects.filter(
            game_id=message.game_id, status=ChatMessage.Status.PUBLISHED, created_at__lte=message.created_at
        )
        .exclude(pk=message.pk)
        .select_related("reply_to")
        .order_by("-created_at", "-id")[: settings.LIVE_CHAT_REPORT_CONTEXT]
    )
    history = ChatReport.objects.filter(reporter_id=report.reporter_id).aggregate(
        total=Count("id"),
        actioned=Count("id", filter=Q(status=ChatReport.Status.ACTIONED)),
        dismissed=Count("id", filter=Q(status=ChatReport.Status.DISMISSED)),
    )
    return report_data(report, context=list(reversed(context)), reporter_history=history)


# --- the Studio dashboard's "Live now" (streaming.apps registers the panel) -----------------------
STUDIO_VIEWER_STEP_MINUTES = 5


def studio_live_now(*, now=None) -> list[dict]:
    """Every live game with its viewers now, chat messages in the last minute and its last play."""
    now = now or timezone.now()
    games = list(
        Game.objects.filter(status=Game.Status.LIVE)
        .select_related("home_team", "away_team")
        .order_by("starts_at", "id")
    )
    since = now - timedelta(seconds=settings.LIVE_PRESENCE_TIMEOUT_SECONDS)
    ids = [game.pk for game in games]
    viewers = dict(
        LiveSession.objects.filter(game_id__in=ids, ended_at=None, last_heartbeat_at__gte=since)
        .values_list("game_id")
        .annotate(n=models.Count("id"))
    )
    chat = dict(
        ChatMessage.objects.filter(game_id__in=ids, deleted_at=None, created_at__gte=now - timedelta(minutes=1))
        .values_list("game_id")
        .annotate(n=models.Count("id"))
    )
    # One indexed read per live game (game_event_game_idx): a handful of games, however many plays.
    last_plays = {
        game_id: GameEvent.objects.filter(game_id=game_id).order_by("-created_at", "-id").first() for game_id in ids
    }
    return [
        {
            "game": game,
            "viewers": viewers.get(game.pk, 0),
            "chat_per_minute": chat.get(game.pk, 0),
            "last_play": last_plays.get(game.pk),
        }
        for game in games
    ]


def studio_viewers_last_hour(*, game_ids: list[int], now=None) -> tuple[list[str], dict[int, list[int]]]:
    """Viewers of each game every 5 minutes over the last hour (13 points, now last): a session counts at
    a moment when it had started and had not ended (nor gone silent past the presence timeout)."""
    now = now or timezone.now()
    timeout = timedelta(seconds=settings.LIVE_PRESENCE_TIMEOUT_SECONDS)
    moments = [now - timedelta(minutes=STUDIO_VIEWER_STEP_MINUTES * i) for i in range(12, -1, -1)]
    aggregates = {
        f"at{i}": models.Count(
            "id",
            filter=Q(started_at__lte=moment)
            & (Q(ended_at__gt=moment) | Q(ended_at=None, last_heartbeat_at__gte=moment - timeout)),
        )
        for i, moment in enumerate(moments)
    }
    series = {game_id: [0] * len(moments) for game_id in game_ids}
    rows = (
        LiveSession.objects.filter(game_id__in=game_ids, started_at__lte=now)
        .filter(Q(ended_at=None) | Q(ended_at__gt=moments[0]))
        .values("game_id")
        .annotate(**aggregates)
    )
    for row in rows:
        series[row["game_id"]] = [row[f"at{i}"] for i in range(len(moments))]
    labels = [f"{timezone.localtime(moment):%H:%M}" for moment in moments]
    return labels, series
