"""Presence: viewing sessions kept alive by heartbeats, the concurrent-stream limit (and ending one of
one's own sessions to make room), viewer counts."""

import logging
import threading
import uuid
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.utils import timezone

from content.models import Game
from csn.errors import ConflictError, NotFoundError, PermissionDeniedError
from csn.realtime.publish import publish
from csn.realtime.sessions import user_sockets_notify
from streaming.live.models import LiveSession
from streaming.live.selectors import viewer_count
from streaming.live.topics import game_topic

logger = logging.getLogger(__name__)


def _stream_limit(user) -> int:
    subscription = getattr(user, "subscription", None)
    premium = bool(subscription and subscription.is_premium_active)
    return settings.LIVE_STREAM_LIMITS["premium" if premium else "free"]


def _session_uuid(session_id) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(session_id))
    except ValueError:
        return None


def presence_heartbeat(*, user, game_id: int, session_id=None, device: str = "", replace=None) -> LiveSession:
    """Keep a viewing session alive (or start one). A session without a heartbeat for 45 s is over.
    Starting one past the plan's concurrent-stream limit is refused with `stream_limit`, unless
    `replace` names another of the user's open sessions: that one ends (its device is told,
    `session.ended`) and this one starts in its place. A session ended that way answers `session_ended`."""
    if not user or not user.is_authenticated:
        raise PermissionDeniedError("Sign in to watch.", code="auth_required")
    now = timezone.now()
    alive_since = now - timedelta(seconds=settings.LIVE_PRESENCE_TIMEOUT_SECONDS)
    device = str(device or "")[:40]
    with transaction.atomic():
        if session_id:
            session_uuid = _session_uuid(session_id)
            updated = LiveSession.objects.filter(
                pk=session_uuid, user=user, game_id=game_id, ended_at=None, last_heartbeat_at__gte=alive_since
            ).update(last_heartbeat_at=now)
            if updated:
                return LiveSession.objects.get(pk=session_uuid)
            if LiveSession.objects.filter(pk=session_uuid, user=user, ended_reason__in=ENDED_ELSEWHERE).exists():
                raise ConflictError("This stream was ended from another device.", code="session_ended")
        if not Game.objects.filter(pk=game_id).exists():
            raise NotFoundError("No such game.", code="not_found")
        # Lock the user's row so two devices starting at once cannot both pass the limit.
        type(user).objects.select_for_update().filter(pk=user.pk).first()
        active = LiveSession.objects.filter(user=user, ended_at=None, last_heartbeat_at__gte=alive_since)
        if replace:
            replaced = active.filter(pk=_session_uuid(replace)).first()
            if replaced is None:
                raise NotFoundError("No such open viewing session of yours.", code="not_found")
            _end(replaced, reason=LiveSession.EndedReason.REPLACED, now=now)
        limit = _stream_limit(user)
        if active.count() >= limit:
            raise ConflictError(
                f"Your plan allows {limit} stream(s) at a time.", code="stream_limit", extra={"limit": limit}
            )
        session = LiveSession.objects.create(game_id=game_id, user=user, device=device, last_heartbeat_at=now)
        transaction.on_commit(lambda: viewers_changed(game_id=game_id))
    return session


# Sessions ended by the user from another device: their own device is refused, not restarted.
ENDED_ELSEWHERE = (LiveSession.EndedReason.REPLACED, LiveSession.EndedReason.ENDED)


def _end(session: LiveSession, *, reason: str, now) -> None:
    session.ended_at, session.ended_reason = now, reason
    session.save(update_fields=["ended_at", "ended_reason"])
    user_sockets_notify(
        user_id=session.user_id,
        name="session.ended",
        data={"session": str(session.pk), "game": session.game_id, "reason": reason},
    )
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
    games = set(LiveSession.objects.filter(pk__in=ids, ended_at=None).values_list("game_id", flat=True))
    LiveSession.objects.filter(pk__in=ids, ended_at=None).update(
        ended_at=timezone.now(), ended_reason=LiveSession.EndedReason.DISCONNECTED
    )
    for game_id in games:
        viewers_changed(game_id=game_id)


def presence_close_stale() -> int:
    """Close sessions whose last heartbeat is older than the timeout (the periodic job)."""
    cutoff = timezone.now() - timedelta(seconds=settings.LIVE_PRESENCE_TIMEOUT_SECONDS)
    stale = LiveSession.objects.filter(ended_at=None, last_heartbeat_at__lt=cutoff)
    games = set(stale.values_list("game_id", flat=True))
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
