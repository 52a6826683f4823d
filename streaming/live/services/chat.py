"""Chat and its moderation: posting under the chat rules, deleting, muting, chat settings.

Every write runs in a transaction and publishes on the game's chat topic (stored with its seq, fanned
out after commit).
"""

import functools
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.utils import timezone

from analytics import events
from content.models import Game
from csn.errors import ApplicationError, ConflictError, NotFoundError, PermissionDeniedError
from csn.realtime.publish import publish, publish_many
from csn.realtime.sessions import user_sockets_notify
from csn.representation import datetime_text
from streaming.live.models import BannedTerm, ChatBan, ChatMessage, ChatMute, GameChat
from streaming.live.permissions import MODERATE_CHAT, moderator_required
from streaming.live.representation import chat_message_data, chat_settings_data, held_message_data
from streaming.live.selectors import chat_is_open, game_locked
from streaming.live.services import filters
from streaming.live.services.audit import audit_message_action, audit_record
from streaming.live.topics import chat_topic, mod_topic


def chat_message_post(*, user, game_id: int, text, client_ref: str = "", reply_to=None) -> ChatMessage:
    """Post to a game's chat. Text is trimmed, non-empty and bounded; the chat must be open; muted
    users are refused; a per-user rate limit and the game's slow mode apply; then the chat's gates and
    banned terms (`filters`): refused, held for review (seen by the author and moderators only), or
    published (moderators and staff are exempt from all but open and muted). `reply_to` is the id of a
    published message of the same chat, quoted with it. A repeated `client_ref` returns the first
    message instead of posting twice."""
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
    with transaction.atomic():
        # The rules are read with the author's row locked (PostgreSQL; SQLite's IMMEDIATE transaction
        # serializes writers anyway) and the message is inserted before the lock goes: one author's
        # concurrent posts, on any number of processes, count each other against the rate limit.
        now = timezone.now()
        state = _chat_post_state(user=user, game_id=game_id, client_ref=client_ref, now=now)
        if state is None:
            raise NotFoundError("No such game.", code="not_found")
        if state["existing_id"]:
            return ChatMessage.objects.get(pk=state["existing_id"])
        privileged = _chat_post_check(user, state, now)
        status, held_reason = ChatMessage.Status.PUBLISHED, ""
        if not privileged:
            filters.chat_gates_check(user=user, state=state, text=text, now=now)
            status, held_reason = filters.chat_screen(state=state, text=text)
        quoted = _reply_target(game_id=state["pk"], reply_to=reply_to)
        # No savepoint for a repeated ref: the author's posts run one at a time, so the read above saw it.
        message = ChatMessage.objects.create(
            game_id=state["pk"],
            user=user,
            user_name=user.display_name,
            user_avatar=user.avatar_url,
            text=text,
            client_ref=client_ref,
            status=status,
            held_reason=held_reason,
            reply_to=quoted,
        )
        if status == ChatMessage.Status.HELD:
            # Never on the chat topic: moderators' queue only; the author has it in the ack (pending).
            publish(topic=mod_topic(message.game_id), name="chat.held", data=held_message_data(message))
        else:
            publish(topic=chat_topic(message.game_id), name="chat.message", data=chat_message_data(message))
        events.chat_message_sent(user_id=user.pk, game_id=message.game_id, length=len(text))
    return message


def _reply_target(*, game_id: int, reply_to) -> ChatMessage | None:
    if reply_to is None:
        return None
    if not isinstance(reply_to, int) or isinstance(reply_to, bool) or not 0 < reply_to < 2**63:
        raise ApplicationError("`reply_to` is a message id.", code="invalid_reply")
    target = ChatMessage.objects.filter(
        pk=reply_to, game_id=game_id, status=ChatMessage.Status.PUBLISHED, deleted_at=None
    ).first()
    if target is None:
        raise ApplicationError("You can reply only to a visible message of this chat.", code="invalid_reply")
    return target


def _chat_post_check(user, state: dict, now) -> bool:
    """The chat rules on the state read for this post: open, not muted, rate limit and slow mode.
    True when the author is a moderator or staff (exempt from the limits, gates and filters)."""
    open_now = state["status"] == Game.Status.LIVE or (
        bool(state["chat__opened_early"]) and state["status"] != Game.Status.FINAL
    )
    if not open_now:
        raise ConflictError("The chat of this game is closed.", code="chat_closed")
    if state["muted"]:
        raise PermissionDeniedError("You are muted in this chat for now.", code="muted")
    privileged = bool(user.is_staff or user.is_superuser or state["moderator"])
    if not privileged:
        if state["recent"] >= settings.LIVE_CHAT_RATE_COUNT:
            # The window frees a slot when the oldest message in it leaves it.
            frees_at = state["oldest_recent"] + timedelta(seconds=settings.LIVE_CHAT_RATE_WINDOW_SECONDS)
            raise ApplicationError(
                "You are sending messages too fast.",
                code="rate_limited",
                status=429,
                extra={"retry_after": _seconds(frees_at, now)},
            )
        slow = state["chat__slow_mode_seconds"] or 0
        if slow and state["last_here"] and state["last_here"] >= now - timedelta(seconds=slow):
            frees_at = state["last_here"] + timedelta(seconds=slow)
            raise ApplicationError(
                f"Slow mode: one message every {slow} seconds.",
                code="slow_mode",
                status=429,
                extra={"retry_after": _seconds(frees_at, now)},
            )
    return privileged


def _seconds(later, now) -> float:
    return round(max(0.0, (later - now).total_seconds()), 3)


@functools.cache
def _chat_post_state_sql() -> str:
    from django.contrib.auth.models import Group, Permission
    from django.contrib.contenttypes.models import ContentType

    user_model = get_user_model()
    message, mute, chat = ChatMessage._meta.db_table, ChatMute._meta.db_table, GameChat._meta.db_table
    ban, term = ChatBan._meta.db_table, BannedTerm._meta.db_table
    user_groups = user_model.groups.through._meta.db_table
    user_perms = user_model.user_permissions.through._meta.db_table
    group_perms = Group.permissions.through._meta.db_table
    perm, content_type = Permission._meta.db_table, ContentType._meta.db_table
    return f"""
SELECT g.id, g.status, c.opened_early, c.slow_mode_seconds,
    c.mode, c.min_account_age_minutes, c.first_message_review, g.home_team_id, g.away_team_id,
    EXISTS (SELECT 1 FROM {ban} b WHERE b.user_id = %(user)s AND (b.game_id IS NULL OR b.game_id = g.id)),
    EXISTS (SELECT 1 FROM {message} m WHERE m.user_id = %(user)s AND m.status = 'published'),
    (SELECT count(*) FROM {term} t WHERE t.game_id IS NULL OR t.game_id = g.id),
    (SELECT max(t.updated_at) FROM {term} t WHERE t.game_id IS NULL OR t.game_id = g.id),
    (SELECT m.id FROM {message} m
        WHERE %(ref)s <> '' AND m.user_id = %(user)s AND m.game_id = g.id AND m.client_ref = %(ref)s LIMIT 1),
    EXISTS (SELECT 1 FROM {mute} x WHERE x.game_id = g.id AND x.user_id = %(user)s AND x.until > %(now)s),
    EXISTS (SELECT 1 FROM {perm} p JOIN {content_type} ct ON ct.id = p.content_type_id
        WHERE ct.app_label = %(app_label)s AND p.codename = %(moderate_chat)s AND (
            EXISTS (SELECT 1 FROM {group_perms} gp JOIN {user_groups} ug ON ug.group_id = gp.group_id
                WHERE gp.permission_id = p.id AND ug.user_id = %(user)s)
            OR EXISTS (SELECT 1 FROM {user_perms} up WHERE up.permission_id = p.id AND up.user_id = %(user)s))),
    (SELECT count(*) FROM {message} m WHERE m.user_id = %(user)s AND m.created_at >= %(window)s),
    (SELECT min(m.created_at) FROM {message} m WHERE m.user_id = %(user)s AND m.created_at >= %(window)s),
    (SELECT max(m.created_at) FROM {message} m WHERE m.user_id = %(user)s AND m.game_id = g.id)
FROM {Game._meta.db_table} g LEFT JOIN {chat} c ON c.game_id = g.id
WHERE g.id = %(game)s
"""  # noqa: S608 - table names are the models', values are parameters


@functools.cache
def _chat_author_lock_sql() -> str:
    return f"SELECT 1 FROM {get_user_model()._meta.db_table} WHERE id = %s FOR UPDATE"  # noqa: S608


_CHAT_POST_STATE_COLUMNS = (
    "pk",
    "status",
    "chat__opened_early",
    "chat__slow_mode_seconds",
    "chat__mode",
    "chat__min_account_age_minutes",
    "chat__first_message_review",
    "home_team_id",
    "away_team_id",
    "banned",
    "has_published",
    "terms_count",
    "terms_changed",
    "existing_id",
    "muted",
    "moderator",
    "recent",
    "oldest_recent",
    "last_here",
)


def _chat_post_state(*, user, game_id: int, client_ref: str, now) -> dict | None:
    """Everything the chat rules need, in one query (after locking the author's row until the transaction
    ends, on PostgreSQL). Chat is a hot write path: a constant statement
    (built once) instead of a queryset of five subqueries, whose compile was three quarters of a post's
    CPU in `python -m bench live`. Tests hold each rule it feeds."""
    adapt = connection.ops.adapt_datetimefield_value
    params = {
        "user": user.pk,
        "game": game_id,
        "ref": client_ref,
        "now": adapt(now),
        "window": adapt(now - timedelta(seconds=settings.LIVE_CHAT_RATE_WINDOW_SECONDS)),
        "moderate_chat": MODERATE_CHAT.codename,
        "app_label": MODERATE_CHAT.app_label,
    }
    with connection.cursor() as cursor:
        if connection.features.has_select_for_update:
            # A statement of its own: waiting for the lock, one statement still reads the rows as they
            # were when it began (READ COMMITTED), so the rules' read must start after the lock.
            cursor.execute(_chat_author_lock_sql(), [user.pk])
        cursor.execute(_chat_post_state_sql(), params)
        row = cursor.fetchone()
    if row is None:
        return None
    state = dict(zip(_CHAT_POST_STATE_COLUMNS, row, strict=True))
    for column in ("oldest_recent", "last_here"):
        if isinstance(state[column], str):  # SQLite returns timestamps as text
            state[column] = connection.ops.convert_datetimefield_value(state[column], None, connection)
    for flag in ("muted", "moderator", "banned", "has_published", "chat__first_message_review"):
        state[flag] = bool(state[flag])
    return state


@transaction.atomic
def chat_message_delete(*, actor, message_id: int, reason: str = "") -> ChatMessage:
    """A moderator removes a message; everyone following the chat gets `chat.deleted` (moderators too)."""
    moderator_required(actor)
    message = ChatMessage.objects.select_for_update().filter(pk=message_id).first()
    if message is None:
        raise NotFoundError("No such message.", code="not_found")
    if message.deleted_at is None:
        message.deleted_at = timezone.now()
        message.deleted_by = actor
        message.save(update_fields=["deleted_at", "deleted_by"])
        gone = [(mod_topic(message.game_id), "chat.deleted", {"id": message.pk})]
        if message.status == ChatMessage.Status.PUBLISHED:
            gone.append((chat_topic(message.game_id), "chat.deleted", {"id": message.pk}))
        publish_many(gone)
        audit_message_action(actor=actor, action="message_deleted", message=message, reason=reason, text=message.text)
    return message


@transaction.atomic
def chat_user_mute(*, actor, game_id: int, user_id: int, minutes: int, reason: str = "") -> ChatMute:
    """A moderator mutes a user in one game's chat for `minutes` (1 to 1440)."""
    moderator_required(actor)
    if not isinstance(minutes, int) or not 1 <= minutes <= 1440:
        raise ApplicationError("Mute for 1 to 1440 minutes.", code="invalid_minutes")
    game = Game.objects.filter(pk=game_id).first()
    target = get_user_model().objects.filter(pk=user_id).first()
    if game is None or target is None:
        raise NotFoundError("No such game or user.", code="not_found")
    mute = ChatMute.objects.create(
        game=game, user=target, until=timezone.now() + timedelta(minutes=minutes), created_by=actor
    )
    _publish_mute(mute.game_id, mute.user_id, mute.until)
    audit_record(
        actor=actor, action="user_muted", game_id=game.pk, target_user_id=target.pk, reason=reason, minutes=minutes
    )
    return mute


@transaction.atomic
def chat_mute_save(*, actor, mute: ChatMute) -> ChatMute:
    """A moderator's mute written in admin, new or edited: its end may be set to any time (one in the
    past lifts it). Followers get `chat.muted` with the new end, as for a mute from the API."""
    moderator_required(actor)
    if mute.created_by_id is None:
        mute.created_by = actor
    mute.save()
    _publish_mute(mute.game_id, mute.user_id, mute.until)
    audit_record(
        actor=actor,
        action="user_muted",
        game_id=mute.game_id,
        target_user_id=mute.user_id,
        until=datetime_text(mute.until),
    )
    return mute


@transaction.atomic
def chat_mutes_lift(*, actor, mutes) -> int:
    """Delete mutes (admin): each muted user's chat gets `chat.muted` ending now."""
    moderator_required(actor)
    mutes = list(mutes)
    ChatMute.objects.filter(pk__in=[mute.pk for mute in mutes]).delete()
    now = timezone.now()
    publish_many([_mute_event(mute.game_id, mute.user_id, now) for mute in mutes])
    for mute in mutes:
        _notify_muted(mute.game_id, mute.user_id, now)
        audit_record(actor=actor, action="mute_lifted", game_id=mute.game_id, target_user_id=mute.user_id)
    return len(mutes)


def _mute_event(game_id: int, user_id: int, until) -> tuple[str, str, dict]:
    return chat_topic(game_id), "chat.muted", {"user": user_id, "until": datetime_text(until)}


def _notify_muted(game_id: int, user_id: int, until) -> None:
    """The muted user's own sockets learn at once, whether or not they follow that chat."""
    user_sockets_notify(user_id=user_id, name="chat.muted", data={"game": game_id, "until": datetime_text(until)})


def _publish_mute(game_id: int, user_id: int, until) -> None:
    publish_many([_mute_event(game_id, user_id, until)])
    _notify_muted(game_id, user_id, until)


SETTING_LIMITS = {"slow_mode_seconds": 3600, "min_account_age_minutes": 60 * 24 * 365}


@transaction.atomic
def chat_settings_update(*, actor, game_id: int, reason: str = "", **changes) -> GameChat:
    """Staff open chat before kick-off; moderators set slow mode, the mode (everyone, premium, fans,
    emotes), the minimum account age and first-message review. Followers get `chat.settings`; the
    change is audited with the values before and after."""
    moderator_required(actor)
    unknown = set(changes) - {"opened_early", "first_message_review", "mode", *SETTING_LIMITS}
    if unknown:
        raise ApplicationError(f"Unknown chat settings: {', '.join(sorted(unknown))}.", code="invalid_settings")
    game = game_locked(game_id)
    chat, _ = GameChat.objects.select_for_update().get_or_create(game=game)
    changes = {name: value for name, value in changes.items() if value is not None}
    if "opened_early" in changes and not actor.is_staff and not actor.is_superuser:
        raise PermissionDeniedError("Only staff open chat early.", code="permission_denied")
    for name, limit in SETTING_LIMITS.items():
        value = changes.get(name)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= limit):
            code = "invalid_slow_mode" if name == "slow_mode_seconds" else "invalid_settings"
            raise ApplicationError(f"`{name}` is 0 to {limit}.", code=code)
    if "mode" in changes and changes["mode"] not in GameChat.Mode.values:
        raise ApplicationError(f"`mode` is one of {', '.join(GameChat.Mode.values)}.", code="invalid_settings")
    before = {name: getattr(chat, name) for name in changes}
    for name, value in changes.items():
        setattr(chat, name, bool(value) if name in ("opened_early", "first_message_review") else value)
    chat.save()
    chat_settings_publish(game, chat)
    after = {name: getattr(chat, name) for name in changes}
    if after != before:
        audit_record(actor=actor, action="settings_changed", game_id=game.pk, reason=reason, before=before, after=after)
    return chat


def chat_settings_publish(game: Game, chat: GameChat | None) -> None:
    """Followers of the chat learn whether it is open, its slow mode and gates (it opens when the game goes live)."""
    publish(
        topic=chat_topic(game.pk),
        name="chat.settings",
        data=chat_settings_data(chat, open_now=chat_is_open(game, chat)),
    )
