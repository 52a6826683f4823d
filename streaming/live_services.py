"""Writes for the live area: chat and its moderation, scores and play-by-play, presence.

Every function runs in a transaction and publishes through `streaming.broadcast.publish`, which
stores the event with its seq and fans it out after commit.
"""

import functools
import logging
import threading
import uuid
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from accounts.services import notify_game_live
from analytics import events
from content.models import Game
from csn.errors import ApplicationError, ConflictError, NotFoundError, PermissionDeniedError
from csn.representation import datetime_text
from streaming.broadcast import publish, publish_many
from streaming.live_selectors import (
    MODERATORS,
    SCOREKEEPERS,
    chat_is_open,
    chat_message_data,
    game_state,
    is_moderator,
    play_data,
    user_in_group,
    viewer_count,
)
from streaming.models import ChatMessage, ChatMute, GameChat, GameEvent, LiveSession

logger = logging.getLogger(__name__)


# --- chat -------------------------------------------------------------------------------------
def _locked_game(game_id) -> Game:
    game = Game.objects.select_for_update().filter(pk=game_id).first()
    if game is None:
        raise NotFoundError("No such game.", code="not_found")
    return game


def chat_message_post(*, user, game_id: int, text, client_ref: str = "") -> ChatMessage:
    """Post to a game's chat. Text is trimmed, non-empty and bounded; the chat must be open; muted
    users are refused; a per-user rate limit and the game's slow mode apply (moderators and staff are
    exempt). A repeated `client_ref` returns the first message instead of posting twice."""
    if not user or not user.is_authenticated:
        raise PermissionDeniedError("Sign in to chat.", code="auth_required")
    if not isinstance(text, str):
        raise ApplicationError("Text must be a string.", code="invalid_message")
    text = text.strip()
    if not text:
        raise ApplicationError("The message is empty.", code="message_empty")
    if len(text) > settings.LIVE_CHAT_MAX_LENGTH:
        raise ApplicationError(
            f"Messages are at most {settings.LIVE_CHAT_MAX_LENGTH} characters.", code="message_too_long"
        )
    if "\x00" in text:  # PostgreSQL text cannot hold U+0000: refuse it instead of failing the insert
        raise ApplicationError("Messages cannot contain NUL characters.", code="invalid_characters")
    client_ref = str(client_ref or "")[:64]
    now = timezone.now()
    state = _chat_post_state(user=user, game_id=game_id, client_ref=client_ref, now=now)
    if state is None:
        raise NotFoundError("No such game.", code="not_found")
    if state["existing_id"]:
        return ChatMessage.objects.get(pk=state["existing_id"])
    open_now = state["status"] == Game.Status.LIVE or (
        bool(state["chat__opened_early"]) and state["status"] != Game.Status.FINAL
    )
    if not open_now:
        raise ConflictError("The chat of this game is closed.", code="chat_closed")
    if state["muted"]:
        raise PermissionDeniedError("You are muted in this chat for now.", code="muted")
    if not (user.is_staff or user.is_superuser or state["moderator"]):
        if state["recent"] >= settings.LIVE_CHAT_RATE_COUNT:
            raise ApplicationError("You are sending messages too fast.", code="rate_limited", status=429)
        slow = state["chat__slow_mode_seconds"] or 0
        if slow and state["last_here"] and state["last_here"] >= now - timedelta(seconds=slow):
            raise ApplicationError(f"Slow mode: one message every {slow} seconds.", code="slow_mode", status=429)
    try:
        with transaction.atomic():
            message = ChatMessage.objects.create(
                game_id=state["pk"],
                user=user,
                user_name=user.display_name,
                user_avatar=user.avatar_url,
                text=text,
                client_ref=client_ref,
            )
            publish(topic=f"chat:{message.game_id}", name="chat.message", data=chat_message_data(message))
            events.chat_message_sent(user_id=user.pk, game_id=message.game_id, length=len(text))
    except IntegrityError:  # the same ref raced in on another socket
        existing = ChatMessage.objects.filter(user=user, game_id=game_id, client_ref=client_ref).first()
        if existing is None:
            raise
        return existing
    return message


@functools.cache
def _chat_post_state_sql() -> str:
    from django.contrib.auth.models import Group

    from accounts.models import User

    message, mute, chat = ChatMessage._meta.db_table, ChatMute._meta.db_table, GameChat._meta.db_table
    user_groups = User.groups.through._meta.db_table
    return f"""
SELECT g.id, g.status, c.opened_early, c.slow_mode_seconds,
    (SELECT m.id FROM {message} m
        WHERE %(ref)s <> '' AND m.user_id = %(user)s AND m.game_id = g.id AND m.client_ref = %(ref)s LIMIT 1),
    EXISTS (SELECT 1 FROM {mute} x WHERE x.game_id = g.id AND x.user_id = %(user)s AND x.until > %(now)s),
    EXISTS (SELECT 1 FROM {user_groups} ug JOIN {Group._meta.db_table} gr ON gr.id = ug.group_id
        WHERE ug.user_id = %(user)s AND gr.name = %(moderators)s),
    (SELECT count(*) FROM {message} m WHERE m.user_id = %(user)s AND m.created_at >= %(window)s),
    (SELECT max(m.created_at) FROM {message} m WHERE m.user_id = %(user)s AND m.game_id = g.id)
FROM {Game._meta.db_table} g LEFT JOIN {chat} c ON c.game_id = g.id
WHERE g.id = %(game)s
"""  # noqa: S608 - table names are the models', values are parameters


_CHAT_POST_STATE_COLUMNS = (
    "pk",
    "status",
    "chat__opened_early",
    "chat__slow_mode_seconds",
    "existing_id",
    "muted",
    "moderator",
    "recent",
    "last_here",
)


def _chat_post_state(*, user, game_id: int, client_ref: str, now) -> dict | None:
    """Everything the chat rules need, in one query. Chat is a hot write path: a constant statement
    (built once) instead of a queryset of five subqueries, whose compile was three quarters of a post's
    CPU in `python -m bench live`. Tests hold each rule it feeds."""
    adapt = connection.ops.adapt_datetimefield_value
    params = {
        "user": user.pk,
        "game": game_id,
        "ref": client_ref,
        "now": adapt(now),
        "window": adapt(now - timedelta(seconds=settings.LIVE_CHAT_RATE_WINDOW_SECONDS)),
        "moderators": MODERATORS,
    }
    with connection.cursor() as cursor:
        cursor.execute(_chat_post_state_sql(), params)
        row = cursor.fetchone()
    if row is None:
        return None
    state = dict(zip(_CHAT_POST_STATE_COLUMNS, row, strict=True))
    if isinstance(state["last_here"], str):  # SQLite returns timestamps as text
        state["last_here"] = connection.ops.convert_datetimefield_value(state["last_here"], None, connection)
    state["muted"], state["moderator"] = bool(state["muted"]), bool(state["moderator"])
    return state


def _require_moderator(actor) -> None:
    if not is_moderator(actor):
        raise PermissionDeniedError("Only moderators may do this.", code="permission_denied")


@transaction.atomic
def chat_message_delete(*, actor, message_id: int) -> ChatMessage:
    """A moderator removes a message; everyone following the chat gets `chat.deleted`."""
    _require_moderator(actor)
    message = ChatMessage.objects.select_for_update().filter(pk=message_id).first()
    if message is None:
        raise NotFoundError("No such message.", code="not_found")
    if message.deleted_at is None:
        message.deleted_at = timezone.now()
        message.deleted_by = actor
        message.save(update_fields=["deleted_at", "deleted_by"])
        publish(topic=f"chat:{message.game_id}", name="chat.deleted", data={"id": message.pk})
    return message


@transaction.atomic
def chat_user_mute(*, actor, game_id: int, user_id: int, minutes: int) -> ChatMute:
    """A moderator mutes a user in one game's chat for `minutes` (1 to 1440)."""
    _require_moderator(actor)
    if not isinstance(minutes, int) or not 1 <= minutes <= 1440:
        raise ApplicationError("Mute for 1 to 1440 minutes.", code="invalid_minutes")
    game = Game.objects.filter(pk=game_id).first()
    from accounts.models import User

    target = User.objects.filter(pk=user_id).first()
    if game is None or target is None:
        raise NotFoundError("No such game or user.", code="not_found")
    mute = ChatMute.objects.create(
        game=game, user=target, until=timezone.now() + timedelta(minutes=minutes), created_by=actor
    )
    _publish_mute(mute.game_id, mute.user_id, mute.until)
    return mute


@transaction.atomic
def chat_mute_save(*, actor, mute: ChatMute) -> ChatMute:
    """A moderator's mute written in admin, new or edited: its end may be set to any time (one in the
    past lifts it). Followers get `chat.muted` with the new end, as for a mute from the API."""
    _require_moderator(actor)
    if mute.created_by_id is None:
        mute.created_by = actor
    mute.save()
    _publish_mute(mute.game_id, mute.user_id, mute.until)
    return mute


@transaction.atomic
def chat_mutes_lift(*, actor, mutes) -> int:
    """Delete mutes (admin): each muted user's chat gets `chat.muted` ending now."""
    _require_moderator(actor)
    mutes = list(mutes)
    ChatMute.objects.filter(pk__in=[mute.pk for mute in mutes]).delete()
    now = timezone.now()
    publish_many([_mute_event(mute.game_id, mute.user_id, now) for mute in mutes])
    return len(mutes)


def _mute_event(game_id: int, user_id: int, until) -> tuple[str, str, dict]:
    return f"chat:{game_id}", "chat.muted", {"user": user_id, "until": datetime_text(until)}


def _publish_mute(game_id: int, user_id: int, until) -> None:
    publish_many([_mute_event(game_id, user_id, until)])


@transaction.atomic
def chat_settings_update(*, actor, game_id: int, opened_early: bool | None = None, slow_mode_seconds=None) -> GameChat:
    """Staff open chat before kick-off; moderators set slow mode. Followers get `chat.settings`."""
    _require_moderator(actor)
    game = _locked_game(game_id)
    chat, _ = GameChat.objects.select_for_update().get_or_create(game=game)
    if opened_early is not None:
        if not actor.is_staff and not actor.is_superuser:
            raise PermissionDeniedError("Only staff open chat early.", code="permission_denied")
        chat.opened_early = bool(opened_early)
    if slow_mode_seconds is not None:
        if not isinstance(slow_mode_seconds, int) or not 0 <= slow_mode_seconds <= 3600:
            raise ApplicationError("Slow mode is 0 to 3600 seconds.", code="invalid_slow_mode")
        chat.slow_mode_seconds = slow_mode_seconds
    chat.save()
    _publish_chat_settings(game, chat)
    return chat


def _publish_chat_settings(game: Game, chat: GameChat | None) -> None:
    publish(
        topic=f"chat:{game.pk}",
        name="chat.settings",
        data={"open": chat_is_open(game, chat), "slow_mode_seconds": chat.slow_mode_seconds if chat else 0},
    )


# --- scores and play-by-play ------------------------------------------------------------------
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
) -> GameEvent:
    """A scorekeeper's update: one transaction changes the game and appends the play-by-play entry;
    the `game.event` broadcast follows the commit. scheduled -> live -> final only."""
    if not user_in_group(actor, SCOREKEEPERS):
        raise PermissionDeniedError("Only scorekeepers post game events.", code="permission_denied")
    game = _locked_game(game_id)
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
    if not changed and not description:
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
    )
    game = Game.objects.select_related("home_team", "away_team").get(pk=game.pk)
    publish(topic=f"game:{game.pk}", name="game.event", data={"game": game_state(game), "play": play_data(event)})
    if "status" in changed:
        _publish_chat_settings(game, GameChat.objects.filter(game=game).first())
    if went_live:
        notify_game_live(game=game)
    return event


# --- presence ---------------------------------------------------------------------------------
def _stream_limit(user) -> int:
    subscription = getattr(user, "subscription", None)
    premium = bool(subscription and subscription.is_premium_active)
    return settings.LIVE_STREAM_LIMITS["premium" if premium else "free"]


def presence_heartbeat(*, user, game_id: int, session_id=None, device: str = "") -> LiveSession:
    """Keep a viewing session alive (or start one). A session without a heartbeat for 45 s is over.
    Starting one past the plan's concurrent-stream limit is refused with `stream_limit`."""
    if not user or not user.is_authenticated:
        raise PermissionDeniedError("Sign in to watch.", code="auth_required")
    now = timezone.now()
    alive_since = now - timedelta(seconds=settings.LIVE_PRESENCE_TIMEOUT_SECONDS)
    device = str(device or "")[:40]
    with transaction.atomic():
        if session_id:
            try:
                session_uuid = uuid.UUID(str(session_id))
            except ValueError:
                session_uuid = None
            updated = LiveSession.objects.filter(
                pk=session_uuid, user=user, game_id=game_id, ended_at=None, last_heartbeat_at__gte=alive_since
            ).update(last_heartbeat_at=now)
            if updated:
                return LiveSession.objects.get(pk=session_uuid)
        if not Game.objects.filter(pk=game_id).exists():
            raise NotFoundError("No such game.", code="not_found")
        # Lock the user's row so two devices starting at once cannot both pass the limit.
        type(user).objects.select_for_update().filter(pk=user.pk).first()
        active = LiveSession.objects.filter(user=user, ended_at=None, last_heartbeat_at__gte=alive_since).count()
        limit = _stream_limit(user)
        if active >= limit:
            raise ConflictError(
                f"Your plan allows {limit} stream(s) at a time.", code="stream_limit", fields={"limit": limit}
            )
        session = LiveSession.objects.create(game_id=game_id, user=user, device=device, last_heartbeat_at=now)
        transaction.on_commit(lambda: viewers_changed(game_id=game_id))
    return session


def presence_end(*, session_ids) -> None:
    """A disconnect ends its sessions at once."""
    ids = [s for s in session_ids if s]
    if not ids:
        return
    games = set(LiveSession.objects.filter(pk__in=ids, ended_at=None).values_list("game_id", flat=True))
    LiveSession.objects.filter(pk__in=ids, ended_at=None).update(ended_at=timezone.now())
    for game_id in games:
        viewers_changed(game_id=game_id)


def presence_close_stale() -> int:
    """Close sessions whose last heartbeat is older than the timeout (the periodic job)."""
    cutoff = timezone.now() - timedelta(seconds=settings.LIVE_PRESENCE_TIMEOUT_SECONDS)
    stale = LiveSession.objects.filter(ended_at=None, last_heartbeat_at__lt=cutoff)
    games = set(stale.values_list("game_id", flat=True))
    closed = stale.update(ended_at=cutoff)
    for game_id in games:
        viewers_changed(game_id=game_id)
    return closed


def viewers_changed(*, game_id: int) -> None:
    """Push the game's viewer count when it changed, at most once a second per game (the cache holds
    the one-second window across processes; a change inside the window is pushed when it ends)."""
    if cache.add(f"live:viewers:window:{game_id}", 1, timeout=1):
        _push_viewers(game_id)
    elif cache.add(f"live:viewers:trailing:{game_id}", 1, timeout=2):
        timer = threading.Timer(1.05, _trailing_push, kwargs={"game_id": game_id})
        timer.daemon = True
        pending_pushes.append(timer)
        timer.start()


# Trailing pushes not yet run (tests wait for them before the database goes away).
pending_pushes: list[threading.Timer] = []


def _trailing_push(*, game_id: int) -> None:
    try:
        pending_pushes[:] = [t for t in pending_pushes if t.is_alive() and t is not threading.current_thread()]
        cache.delete(f"live:viewers:trailing:{game_id}")
        viewers_changed(game_id=game_id)
    except Exception:
        logger.warning("live: viewer count push for game %s failed", game_id, exc_info=True)
    finally:
        connection.close()  # this thread ends here; its connection must not linger


def _push_viewers(game_id: int) -> None:
    count = viewer_count(game_id=game_id)
    key = f"live:viewers:last:{game_id}"
    if cache.get(key) == count:
        return
    cache.set(key, count, timeout=3600)
    with transaction.atomic():
        publish(topic=f"game:{game_id}", name="viewers", data={"count": count})
