"""Reads for the live gateway: topic snapshots, replay, viewer counts, who may do what."""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from content.models import Game
from csn.errors import ApplicationError, NotFoundError
from csn.representation import datetime_text
from streaming.broadcast import current_seq
from streaming.models import ChatMessage, GameChat, GameEvent, LiveEvent, LiveSession

SCOREKEEPERS = "Scorekeepers"
MODERATORS = "Moderators"


def user_in_group(user, group: str) -> bool:
    if not user or not user.is_authenticated:
        return False
    return user.is_superuser or user.groups.filter(name=group).exists()


def is_moderator(user) -> bool:
    return bool(user and user.is_authenticated and user.is_staff) or user_in_group(user, MODERATORS)


def game_state(game: Game) -> dict:
    return {
        "id": game.pk,
        "status": game.status,
        "home_team": {"id": game.home_team_id, "name": game.home_team.name},
        "away_team": {"id": game.away_team_id, "name": game.away_team.name},
        "home_score": game.home_score,
        "away_score": game.away_score,
        "period": game.period,
        "clock": game.clock,
        "starts_at": datetime_text(game.starts_at),
    }


def play_data(event: GameEvent) -> dict:
    return {
        "id": event.pk,
        "description": event.description,
        "status": event.status,
        "home_score": event.home_score,
        "away_score": event.away_score,
        "period": event.period,
        "clock": event.clock,
        "changed": event.changed,
        "created_at": datetime_text(event.created_at),
    }


def chat_message_data(message: ChatMessage) -> dict:
    return {
        "id": message.pk,
        "game": message.game_id,
        "user": {"id": message.user_id, "name": message.user_name, "avatar": message.user_avatar},
        "text": message.text,
        "created_at": datetime_text(message.created_at),
    }


def chat_is_open(game: Game, chat: GameChat | None) -> bool:
    return game.status == Game.Status.LIVE or bool(chat and chat.opened_early and game.status != Game.Status.FINAL)


def viewer_count(*, game_id: int) -> int:
    since = timezone.now() - timedelta(seconds=settings.LIVE_PRESENCE_TIMEOUT_SECONDS)
    return LiveSession.objects.filter(game_id=game_id, ended_at=None, last_heartbeat_at__gte=since).count()


def get_game(game_id: int) -> Game:
    game = Game.objects.select_related("home_team", "away_team").filter(pk=game_id).first()
    if game is None:
        raise NotFoundError("No such game.", code="not_found")
    return game


def parse_topic(topic) -> tuple[str, int | None]:
    """`game:7` -> ("game", 7); `user` -> ("user", None). Anything else is an unknown topic."""
    if topic == "user":
        return "user", None
    if isinstance(topic, str) and ":" in topic:
        kind, _, ident = topic.partition(":")
        if kind in ("game", "chat") and ident.isdigit() and len(ident) < 19:
            return kind, int(ident)
    raise ApplicationError("Unknown topic.", code="unknown_topic")


def topic_snapshot(*, topic: str, kind: str, ident: int | None, user) -> tuple[int, dict]:
    """The topic's current state and the seq it matches exactly (writers wait on the counter lock)."""
    with transaction.atomic():
        if kind == "user":
            seq = current_seq(topic, lock=True)
            return seq, {"user": {"id": user.pk, "name": user.display_name}}
        game = get_game(ident)
        seq = current_seq(topic, lock=True)
        if kind == "game":
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


def topic_replay(*, topic: str, since: int) -> list[tuple[int, str, dict]] | None:
    """Events after `since`, oldest first; None when they are no longer all kept (resnapshot)."""
    seq = current_seq(topic)
    if since > seq or seq - since > settings.LIVE_REPLAY_LIMIT:
        return None
    rows = list(
        LiveEvent.objects.filter(topic=topic, seq__gt=since, seq__lte=seq)
        .order_by("seq")
        .values_list("seq", "name", "data")
    )
    if len(rows) != seq - since:  # pruned, or a gap: the client needs a fresh snapshot
        return None
    return rows
