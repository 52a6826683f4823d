"""Writes of viewer state: watch progress, history, My List, playlists.

Every function acts for the user it is given (the authenticated one); none takes a user id.
Live events go to the user's own topic after commit, analytics events into the outbox in the
same transaction.
"""

import functools
import secrets
from dataclasses import dataclass
from datetime import datetime
from types import SimpleNamespace

from django.db import connection, transaction
from django.db.models.functions import Now
from django.utils import timezone

from analytics import events
from content.selectors import access_content, content_visible_to
from csn.errors import ApplicationError, NotFoundError
from csn.realtime.publish import publish_user_event
from csn.representation import datetime_text
from csn.statements import raw_models
from streaming.viewing.models import COMPLETION_THRESHOLD_PERCENT, MyListItem, Playlist, PlaylistItem, WatchProgress
from streaming.viewing.representation import progress_data
from streaming.viewing.selectors import access_playlist, my_list_item_get

# A player may report a position a little past the duration it knows (rounding, trailing frames).
POSITION_TOLERANCE_SECONDS = 5.0
# Longer than any broadcast; bounds what a client can store.
MAX_DURATION_SECONDS = 7 * 24 * 3600.0
# Shorter than any video. Below it the percentage is noise: a duration of 1e-320 made position 0 a 100%
# completion (and a `video_complete`).
MIN_DURATION_SECONDS = 1.0
PLAYLIST_MAX_ITEMS = 500
PLAYLIST_TITLE_MAX_LENGTH = 100


def _field_error(field: str, code: str, message: str) -> ApplicationError:
    return ApplicationError(message, code=code, fields={field: [{"code": code, "message": message}]})


# --- Watch progress ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ProgressResult:
    progress: WatchProgress
    applied: bool  # False: the stored reading is as new or newer; nothing changed
    created: bool  # the first reading of this content by this user
    just_completed: bool  # this reading crossed the completion threshold


_UPSERT_COLUMNS = (
    "user_id, content_id, position_seconds, duration_seconds, completion_percentage, completed, "
    "recorded_at, completed_at, first_watched_at, last_watched_at"
)

# One statement: insert, or update only when the reading is newer than the stored one; and only
# for content this user may see (the row source is the visibility query, so an unavailable item
# inserts nothing). A completion keeps the completed_at of the reading that first crossed the
# threshold, so `completed_at = recorded_at` in the returned row means exactly "this reading crossed
# it" (a stored completion is never newer than the stored reading, which is older than this one).
# No row back: a stale reading, or content this user may not see. (The WHERE clause also resolves
# SQLite's INSERT ... SELECT ... ON CONFLICT parsing ambiguity.)
_UPSERT_SQL = f"""
INSERT INTO {WatchProgress._meta.db_table} AS stored ({_UPSERT_COLUMNS})
SELECT %s, visible.id, %s, %s, %s, %s, %s, %s, %s, %s FROM ({{visible}}) AS visible WHERE visible.id = %s
ON CONFLICT (user_id, content_id) DO UPDATE SET
    position_seconds = excluded.position_seconds,
    duration_seconds = excluded.duration_seconds,
    completion_percentage = excluded.completion_percentage,
    completed = excluded.completed,
    recorded_at = excluded.recorded_at,
    completed_at = CASE WHEN excluded.completed THEN COALESCE(stored.completed_at, excluded.completed_at) END,
    last_watched_at = excluded.last_watched_at
WHERE excluded.recorded_at > stored.recorded_at
RETURNING id, {_UPSERT_COLUMNS}, (completed_at = recorded_at) AS just_completed, {{inserted}} AS inserted,
    {{relaxed}} AS relaxed
"""  # noqa: S608 - names are constants, the subquery is Django's, values are parameters
# PostgreSQL: a row the statement inserted has no deleting transaction (xmax = 0); an updated one has.
_INSERTED_POSTGRESQL = "(xmax = 0)"
# SQLite has no xmax; writers are serialized (BEGIN IMMEDIATE), so a read before the upsert is exact.
_INSERTED_SQLITE = "%s"
# PostgreSQL: a plain position update (an updated row that did not just cross the threshold: no analytics
# event in the transaction), in a transaction of the service's own (the parameter), need not wait for the
# WAL flush at commit: it is superseded within seconds (a database crash could lose the last fraction of a
# second of them, never an event). `SET LOCAL synchronous_commit` as part of the upsert's answer, not a
# statement of its own after it: one round trip less on every heartbeat. SQLite has no such setting.
_RELAXED_POSTGRESQL = (
    "CASE WHEN %s AND xmax <> 0 AND completed_at IS DISTINCT FROM recorded_at"
    " THEN set_config('synchronous_commit', 'off', true) END"
)
_RELAXED_SQLITE = "NULL"


@functools.cache
def _visible_content_ids_sql(*, staff: bool, alias: str) -> tuple[str, tuple]:
    """`content_visible_to` as SQL selecting ids, compiled once per kind of user and database: its
    time bound is the database's clock, so the statement is the same on every request (compiling the
    queryset anew was a sixth of a progress write's CPU)."""
    viewer = SimpleNamespace(is_authenticated=True, is_staff=staff)
    queryset = content_visible_to(user=viewer, now=Now()).order_by().values("id")
    return queryset.query.get_compiler(using=alias).as_sql()


def _validate_reading(*, position_seconds: float, duration_seconds: float) -> float:
    """The position to store (a little past the end counts as the end)."""
    if duration_seconds < MIN_DURATION_SECONDS:
        raise _field_error("duration_seconds", "invalid_duration", "The duration must be at least 1 second.")
    if duration_seconds > MAX_DURATION_SECONDS:
        raise _field_error("duration_seconds", "invalid_duration", "The duration is longer than any video.")
    if position_seconds < 0:
        raise _field_error("position_seconds", "invalid_position", "The position cannot be negative.")
    if position_seconds > duration_seconds + POSITION_TOLERANCE_SECONDS:
        raise _field_error("position_seconds", "position_past_end", "The position is past the end of the video.")
    return min(position_seconds, duration_seconds)


def progress_record(
    *, user, content_id: int, position_seconds: float, duration_seconds: float, recorded_at: datetime
) -> ProgressResult:
    """Store a device's reading of where the user is in an item.

    Rules: one row per user and item, written by one upsert; a reading older than the stored one
    changes nothing (devices report out of order); completed at >= 90% of the duration. The first
    reading emits `video_play`, the reading that crosses 90% emits `video_complete`, both in this
    transaction; the new state goes to the user's topic after commit. A device clock ahead of the
    server counts as now, so one wrong clock cannot freeze the row.
    """
    position_seconds = _validate_reading(position_seconds=position_seconds, duration_seconds=duration_seconds)
    now = timezone.now()
    recorded_at = min(recorded_at, now)
    percentage = round(min(100.0, position_seconds / duration_seconds * 100.0), 2)
    completed = percentage >= COMPLETION_THRESHOLD_PERCENT

    visible, visible_params = _visible_content_ids_sql(staff=bool(user.is_staff), alias=connection.alias)
    adapt = connection.ops.adapt_datetimefield_value
    params = [
        user.pk,
        position_seconds,
        duration_seconds,
        percentage,
        completed,
        adapt(recorded_at),
        adapt(recorded_at) if completed else None,
        adapt(now),
        adapt(now),
        *visible_params,
        content_id,
    ]
    postgresql = connection.vendor == "postgresql"
    # Only a transaction of our own may relax its commit; a caller's may hold writes that must not.
    own_transaction = not connection.in_atomic_block
    with transaction.atomic():
        if postgresql:
            sql = _UPSERT_SQL.format(visible=visible, inserted=_INSERTED_POSTGRESQL, relaxed=_RELAXED_POSTGRESQL)
            params = [*params, own_transaction]
        else:
            exists = WatchProgress.objects.filter(user=user, content_id=content_id).exists()
            sql = _UPSERT_SQL.format(visible=visible, inserted=_INSERTED_SQLITE, relaxed=_RELAXED_SQLITE)
            params = [*params, not exists]
        rows = raw_models(WatchProgress, sql, params, alias=connection.alias)
        if not rows:
            access_content(user=user, content_id=content_id)
            stored = WatchProgress.objects.get(user=user, content_id=content_id)
            return ProgressResult(progress=stored, applied=False, created=False, just_completed=False)

        progress = rows[0]
        created, just_completed = bool(progress.inserted), bool(progress.just_completed)
        reading = {
            "user_id": user.pk,
            "video_id": content_id,
            "position_seconds": position_seconds,
            "duration_seconds": duration_seconds,
            "timestamp": recorded_at,
        }
        if created:
            events.video_play(**reading)
        if just_completed:
            events.video_complete(**reading, completion_percentage=percentage)
        publish_user_event(user_id=user.pk, name="progress.updated", data=progress_data(progress))
    return ProgressResult(progress=progress, applied=True, created=created, just_completed=just_completed)


@transaction.atomic
def history_entry_delete(*, user, content_id: int) -> None:
    """Forget one item from the user's history (and so from Continue Watching)."""
    deleted, _ = WatchProgress.objects.filter(user=user, content_id=content_id).delete()
    if not deleted:
        raise NotFoundError("This item is not in your history.", code="not_in_history")
    publish_user_event(user_id=user.pk, name="progress.deleted", data={"content_id": content_id})


@transaction.atomic
def history_clear(*, user) -> int:
    deleted, _ = WatchProgress.objects.filter(user=user).delete()
    if deleted:
        publish_user_event(user_id=user.pk, name="history.cleared", data={})
    return deleted


# --- My List ----------------------------------------------------------------------------------


@transaction.atomic
def my_list_add(*, user, content_id: int) -> tuple[MyListItem, bool]:
    """Idempotent: adding twice (or two taps at once) keeps one entry; only the first add is an event."""
    content = access_content(user=user, content_id=content_id)
    # get_or_create retries the read after losing an insert race on the unique constraint.
    item, created = MyListItem.objects.get_or_create(user=user, content=content)
    if created:
        events.my_list_added(user_id=user.pk, video_id=content.pk, video_type=content.type)
        publish_user_event(
            user_id=user.pk,
            name="mylist.changed",
            data={"content_id": content.pk, "in_list": True, "added_at": datetime_text(item.created_at)},
        )
    return item, created


@transaction.atomic
def my_list_remove(*, user, content_id: int) -> bool:
    """Idempotent: removing what is not there is not an error (a double-tap removes once)."""
    deleted, _ = MyListItem.objects.filter(user=user, content_id=content_id).delete()
    if deleted:
        events.my_list_removed(user_id=user.pk, video_id=content_id)
        publish_user_event(user_id=user.pk, name="mylist.changed", data={"content_id": content_id, "in_list": False})
    return bool(deleted)


def my_list_contains(*, user, content_id: int) -> MyListItem | None:
    access_content(user=user, content_id=content_id)
    return my_list_item_get(user=user, content_id=content_id)


# --- Playlists --------------------------------------------------------------------------------


def _clean_title(title: str) -> str:
    title = (title or "").strip()
    if not title:
        raise _field_error("title", "blank", "A playlist needs a title.")
    if len(title) > PLAYLIST_TITLE_MAX_LENGTH:
        raise _field_error("title", "max_length", f"At most {PLAYLIST_TITLE_MAX_LENGTH} characters.")
    return title


def _new_share_token() -> str:
    return secrets.token_urlsafe(24)


@transaction.atomic
def playlist_create(*, user, title: str, shared: bool = False) -> Playlist:
    return Playlist.objects.create(
        user=user, title=_clean_title(title), share_token=_new_share_token() if shared else None
    )


@transaction.atomic
def playlist_update(*, user, playlist_id: int, title: str | None = None, shared: bool | None = None) -> Playlist:
    """Rename, share or unshare. Sharing again issues a new link; unsharing kills the old one."""
    playlist = access_playlist(user=user, playlist_id=playlist_id, for_update=True)
    if title is not None:
        playlist.title = _clean_title(title)
    if shared is True and not playlist.share_token:
        playlist.share_token = _new_share_token()
    elif shared is False:
        playlist.share_token = None
    playlist.save(update_fields=["title", "share_token", "updated_at"])
    return playlist


@transaction.atomic
def playlist_delete(*, user, playlist_id: int) -> None:
    access_playlist(user=user, playlist_id=playlist_id, for_update=True).delete()


@transaction.atomic
def playlist_item_add(*, user, playlist_id: int, content_id: int) -> tuple[PlaylistItem, bool]:
    """Appends at the end; adding an item already there is a no-op that returns it."""
    playlist = access_playlist(user=user, playlist_id=playlist_id, for_update=True)
    content = access_content(user=user, content_id=content_id)
    existing = PlaylistItem.objects.filter(playlist=playlist, content=content).first()
    if existing is not None:
        return existing, False
    positions = list(PlaylistItem.objects.filter(playlist=playlist).values_list("position", flat=True))
    if len(positions) >= PLAYLIST_MAX_ITEMS:
        raise ApplicationError(f"A playlist holds at most {PLAYLIST_MAX_ITEMS} items.", code="playlist_full")
    item = PlaylistItem.objects.create(playlist=playlist, content=content, position=max(positions, default=-1) + 1)
    playlist.save(update_fields=["updated_at"])
    return item, True


@transaction.atomic
def playlist_item_remove(*, user, playlist_id: int, item_id: int) -> None:
    playlist = access_playlist(user=user, playlist_id=playlist_id, for_update=True)
    deleted, _ = PlaylistItem.objects.filter(playlist=playlist, pk=item_id).delete()
    if not deleted:
        raise NotFoundError("No such item in this playlist.", code="item_not_found")
    playlist.save(update_fields=["updated_at"])


@transaction.atomic
def playlist_reorder(*, user, playlist_id: int, item_ids: list[int]) -> list[PlaylistItem]:
    """The new order, as every item id of the playlist exactly once."""
    playlist = access_playlist(user=user, playlist_id=playlist_id, for_update=True)
    items = {item.pk: item for item in PlaylistItem.objects.filter(playlist=playlist)}
    if len(item_ids) != len(set(item_ids)) or set(item_ids) != set(items):
        raise _field_error(
            "item_ids", "not_a_permutation", "List every item of the playlist exactly once, in the new order."
        )
    changed = []
    for position, item_id in enumerate(item_ids):
        item = items[item_id]
        if item.position != position:
            item.position = position
            changed.append(item)
    PlaylistItem.objects.bulk_update(changed, ["position"])
    playlist.save(update_fields=["updated_at"])
    return [items[item_id] for item_id in item_ids]
