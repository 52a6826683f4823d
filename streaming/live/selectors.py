"""Reads for the live area: topic snapshots, viewer counts, who may do what."""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from content.models import Game
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
