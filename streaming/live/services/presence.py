"""Presence: viewing sessions kept alive by heartbeats, the concurrent-stream limit (and ending one of
one's own sessions to make room), viewer counts."""

import functools
import logging
import threading
import uuid
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import connection, connections, router, transaction
from django.utils import timezone

from accounts.entitlements import grants_now
from content.models import Game
from csn.errors import ConflictError, NotFoundError, PermissionDeniedError
from csn.realtime.publish import publish
from csn.realtime.sessions import user_sockets_notify
from csn.statements import Statement
from streaming.live.models import LiveSession
from streaming.live.representation import session_data
from streaming.live.selectors import viewer_count
from streaming.live.topics import game_topic

logger = logging.getLogger(__name__)


def _session_uuid(session_id) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(session_id))
    except ValueError:
        return None


def _alive_since(now):
    return now - timedelta(seconds=settings.LIVE_PRESENCE_TIMEOUT_SECONDS)


def presence_heartbeat(*, user, game_id: int, session_id=None, device: str = "", replace=None) -> LiveSession:
    """Keep a viewing session of a live game alive (or start one). A session without a heartbeat for
    45 s is over. Starting one past the user's concurrent-stream limit is refused (`session_start`).
    A session ended from elsewhere answers `session_ended`."""
    if not user or not user.is_authenticated:
        raise PermissionDeniedError("Sign in to watch.", code="auth_required")
    with transaction.atomic():
        if session_id:
            session = session_keep_alive(user=user, session_id=session_id, game_id=game_id, expired_ok=True)
            if session is not None:
                return session
        if not Game.objects.filter(pk=game_id).exists():
            raise NotFoundError("No such game.", code="not_found")
        return session_start(user=user, game_id=game_id, device=device, replace=replace)


def session_keep_alive(*, user, session_id, game_id=None, expired_ok=False) -> LiveSession | None:
    """A heartbeat of one of the user's open sessions (of this game, when given). Refused with
    `session_ended` when it was ended from another device or by the stream limit; when it timed out,
    `session_expired` (or None with `expired_ok`: presence starts a new one)."""
    now = timezone.now()
    mine = LiveSession.objects.filter(pk=_session_uuid(session_id), user=user)
    if game_id is not None:
        mine = mine.filter(game_id=game_id)
    if mine.filter(ended_at=None, last_heartbeat_at__gte=_alive_since(now)).update(last_heartbeat_at=now):
        return mine.get()
    session = mine.first()
    if session is None and not expired_ok:
        raise NotFoundError("No such viewing session of yours.", code="not_found")
    if session is not None and session.ended_reason in ENDED_ELSEWHERE:
        raise ConflictError("This stream was ended from another device.", code="session_ended")
    if expired_ok:
        return None
    raise ConflictError("This viewing session is over; start playback again.", code="session_expired", status=410)


def session_start(
    *,
    user,
    game_id: int | None = None,
    content_id: int | None = None,
    device: str = "",
    replace=None,
    playback=False,
    max_streams: int | None = None,
) -> LiveSession:
    """Open a viewing session of a game or an item, under the user's concurrent-stream limit: the most
    any product they hold allows (CSN_STREAM_LIMIT_WITHOUT_PRODUCT without one; `max_streams` when the
    caller just read the user's grants). Past it, refused with `stream_limit` and the user's open
    sessions (each endable), unless `replace` names one of them: that one ends (its device is told,
    `session.ended`) and this one starts in its place. Two devices starting at once cannot both pass:
    the user's row is locked. Runs in the caller's transaction. The lock and the open sessions are
    constant statements (csn.statements.Statement): playback starts one on every authorization."""
    now = timezone.now()
    device = str(device or "")[:40]
    alias = router.db_for_write(type(user))
    if connections[alias].features.has_select_for_update and connections[alias].get_autocommit():
        raise transaction.TransactionManagementError("select_for_update cannot be used outside of a transaction.")
    _lock_user_statement(type(user), alias).rows(user.pk)
    if replace:
        active = LiveSession.objects.filter(user=user, ended_at=None, last_heartbeat_at__gte=_alive_since(now))
        replaced = active.filter(pk=_session_uuid(replace)).first()
        if replaced is None:
            raise NotFoundError("No such open viewing session of yours.", code="not_found")
        _end(replaced, reason=LiveSession.EndedReason.REPLACED, now=now)
    limit = grants_now(user_id=user.pk).max_streams if max_streams is None else max_streams
    open_now = _open_sessions_statement(router.db_for_read(LiveSession)).run(user.pk, _alive_since(now))
    if len(open_now) >= limit:
        raise ConflictError(
            f"Your plan allows {limit} stream(s) at a time.",
            code="stream_limit",
            extra={"limit": limit, "sessions": [session_data(session) for session in open_now]},
        )
    session = LiveSession.objects.create(
        game_id=game_id, content_id=content_id, user=user, device=device, last_heartbeat_at=now, playback=playback
    )
    if game_id is not None:
        transaction.on_commit(lambda: viewers_changed(game_id=game_id))
    return session


def open_sessions(*, user_id: int, alive_since):
    """The user's sessions open now (ended by nobody, a heartbeat since `alive_since`), latest first."""
    return LiveSession.objects.filter(user_id=user_id, ended_at=None, last_heartbeat_at__gte=alive_since).order_by(
        "-last_heartbeat_at"
    )


# Markers of constant statements' parameters (no user has this id; no session this date).
_ANY_USER = -7_000_000_005
_ANY_TIME = datetime(1901, 2, 3, 4, 5, 6, 789, tzinfo=UTC)


@functools.cache
def _lock_user_statement(model, alias: str) -> Statement:
    return Statement(
        model.objects.select_for_update().filter(pk=_ANY_USER).values_list("pk"), marker=_ANY_USER, alias=alias
    )


@functools.cache
def _open_sessions_statement(alias: str) -> Statement:
    return Statement(
        open_sessions(user_id=_ANY_USER, alive_since=_ANY_TIME), markers=(_ANY_USER, _ANY_TIME), alias=alias
    )


# Sessions ended by the user from another device: their own device is refused, not restarted.
ENDED_ELSEWHERE = (LiveSession.EndedReason.REPLACED, LiveSession.EndedReason.ENDED)


def _end(session: LiveSession, *, reason: str, now) -> None:
    session.ended_at, session.ended_reason = now, reason
    session.save(update_fields=["ended_at", "ended_reason"])
    user_sockets_notify(
        user_id=session.user_id,
        name="session.ended",
        data={"session": str(session.pk), "game": session.game_id, "content": session.content_id, "reason": reason},
    )
    if session.game_id is not None:
        transaction.on_commit(lambda: viewers_changed(game_id=session.game_id))


def presence_session_end(*, user, session_id) -> LiveSession:
    """The user ends one of their open viewing sessions (say, on a device they left on), to make room
    under the stream limit. Its device is told at once (`session.ended`) and its next heartbeat is
    refused with `session_ended`."""
    with transaction.atomic():
        session = (
            LiveSession.objects.select_for_update()
            .filter(pk=_session_uuid(session_id), user=user, ended_at=None)
            .first()
        )
        if session is None:
            raise NotFoundError("No such open viewing session of yours.", code="not_found")
        _end(session, reason=LiveSession.EndedReason.ENDED, now=timezone.now())
    return session


def presence_end(*, session_ids) -> None:
    """A disconnect ends its sessions at once."""
    ids = [s for s in session_ids if s]
    if not ids:
        return
    games = set(
        LiveSession.objects.filter(pk__in=ids, ended_at=None, game__isnull=False).values_list("game_id", flat=True)
    )
    LiveSession.objects.filter(pk__in=ids, ended_at=None).update(
        ended_at=timezone.now(), ended_reason=LiveSession.EndedReason.DISCONNECTED
    )
    for game_id in games:
        viewers_changed(game_id=game_id)


def presence_close_stale() -> int:
    """Close sessions whose last heartbeat is older than the timeout (the periodic job)."""
    cutoff = timezone.now() - timedelta(seconds=settings.LIVE_PRESENCE_TIMEOUT_SECONDS)
    stale = LiveSession.objects.filter(ended_at=None, last_heartbeat_at__lt=cutoff)
    games = set(stale.filter(game__isnull=False).values_list("game_id", flat=True))
    closed = stale.update(ended_at=cutoff, ended_reason=LiveSession.EndedReason.TIMEOUT)
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
        timer.name = TRAILING_PUSH_THREAD
        timer.daemon = True
        timer.start()


TRAILING_PUSH_THREAD = "live-viewers-trailing-push"


def _trailing_push(*, game_id: int) -> None:
    try:
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
        publish(topic=game_topic(game_id), name="viewers", data={"count": count})
