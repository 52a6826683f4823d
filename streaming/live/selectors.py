"""Reads for the live area: topic snapshots, viewer counts, who may do what."""

from datetime import timedelta

from django.conf import settings
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone

from content.models import Game
from content.services import presence
from content.services.presence import STUDIO
from csn.errors import NotFoundError
from csn.realtime.log import current_seq
from csn.realtime.topics import USER_TOPIC
from streaming.live.models import ChatMessage, GameChat, GameEvent, LiveSession
from streaming.live.representation import chat_message_data, game_state, play_data
from streaming.live.topics import GAME


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
        game = access_game(ident)
        seq = current_seq(topic, lock=True)
        if kind == GAME:
            plays = GameEvent.objects.filter(game=game).order_by("-created_at", "-id")[: settings.LIVE_SNAPSHOT_PLAYS]
            return seq, {
                "game": game_state(game),
                "plays": [play_data(p) for p in plays],
                "viewers": viewer_count(game_id=game.pk),
            }
        chat = GameChat.objects.filter(game=game).first()
        messages = ChatMessage.objects.filter(game=game, deleted_at=None).order_by("-created_at", "-id")[
            : settings.LIVE_SNAPSHOT_CHAT_MESSAGES
        ]
        return seq, {
            "open": chat_is_open(game, chat),
            "slow_mode_seconds": chat.slow_mode_seconds if chat else 0,
            "messages": [chat_message_data(m) for m in reversed(messages)],
        }


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
