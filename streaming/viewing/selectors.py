"""Reads of viewer state: Continue Watching, history, My List, playlists. Always for one user."""

import functools
from types import SimpleNamespace

from django.db import connection
from django.db.models import BooleanField, Count, ExpressionWrapper, Q, QuerySet, Value
from django.db.models.functions import Now

from content.selectors import content_available_q
from csn.errors import NotFoundError
from csn.statements import Statement
from streaming.viewing.models import MyListItem, Playlist, PlaylistItem, WatchProgress

CONTINUE_WATCHING_DEFAULT_LIMIT = 10
CONTINUE_WATCHING_MAX_LIMIT = 50

# What list rows render: the content card's columns, not the whole catalogue row (description, tags...).
CONTENT_CARD_COLUMNS = [
    f"content__{name}"
    for name in (
        "title",
        "slug",
        "type",
        "year",
        "runtime_seconds",
        "is_premium",
        "thumbnail",
        "reveals_result",
        "game",
    )
]
PROGRESS_COLUMNS = [
    "content_id",
    "position_seconds",
    "duration_seconds",
    "completion_percentage",
    "completed",
    "recorded_at",
    "last_watched_at",
]


def _prefixed(q: Q, prefix: str) -> Q:
    """The same condition, on a related model's fields (`state` -> `content__state`)."""
    clone = Q()
    clone.connector, clone.negated = q.connector, q.negated
    clone.children = [
        _prefixed(child, prefix) if isinstance(child, Q) else (prefix + child[0], child[1]) for child in q.children
    ]
    return clone


def visible_content_q(*, user, prefix: str = "content__", now=None) -> Q:
    """What `content_visible_to(user=...)` allows, as a condition on a relation to content.

    A join condition rather than `content__in=<subquery>` so the planner walks the user's own rows by
    index and looks each item up by primary key, whatever the size of the catalogue.
    """
    if user is not None and user.is_authenticated and user.is_staff:
        return Q()
    return _prefixed(content_available_q(now), prefix)


def progress_get(*, user, content_id: int) -> WatchProgress | None:
    return WatchProgress.objects.filter(user=user, content_id=content_id).first()


def continue_watching(*, user, limit: int = CONTINUE_WATCHING_DEFAULT_LIMIT, now=None) -> QuerySet[WatchProgress]:
    """Unfinished items, newest first, content joined in the same query (the partial index
    progress_continue_idx serves it). Items no longer available are skipped."""
    limit = max(1, min(limit, CONTINUE_WATCHING_MAX_LIMIT))
    return (
        WatchProgress.objects.filter(visible_content_q(user=user, now=now), user_id=user.pk, completed=False)
        .select_related("content")
        .only(*PROGRESS_COLUMNS, *CONTENT_CARD_COLUMNS)
        .order_by("-last_watched_at", "-id")[:limit]
    )


def continue_watching_items(*, user, limit: int = CONTINUE_WATCHING_DEFAULT_LIMIT) -> list[WatchProgress]:
    """`continue_watching`, run as a constant statement (csn.statements.Statement): compiled once per kind of
    user, limit and database, its time bound the database's clock (compiling the queryset on every
    request was two fifths of the endpoint's CPU). A test holds the two equal."""
    limit = max(1, min(limit, CONTINUE_WATCHING_MAX_LIMIT))
    return _continue_watching_statement(staff=bool(user.is_staff), limit=limit, alias=connection.alias).run(user.pk)


_ANY_USER = -7_000_000_001  # no user has it: marks the user's place among the statement's parameters


@functools.cache
def _continue_watching_statement(*, staff: bool, limit: int, alias: str) -> Statement:
    viewer = SimpleNamespace(is_authenticated=True, is_staff=staff, pk=_ANY_USER)
    return Statement(continue_watching(user=viewer, limit=limit, now=Now()), marker=_ANY_USER, alias=alias)


def history(*, user) -> QuerySet[WatchProgress]:
    """Everything the user watched (finished or not), newest first, for pagination."""
    return (
        WatchProgress.objects.filter(visible_content_q(user=user), user=user)
        .select_related("content")
        .only(*PROGRESS_COLUMNS, *CONTENT_CARD_COLUMNS)
        .order_by("-last_watched_at", "-id")
    )


def my_list(*, user) -> QuerySet[MyListItem]:
    return (
        MyListItem.objects.filter(visible_content_q(user=user), user=user)
        .select_related("content")
        .only("content_id", "created_at", *CONTENT_CARD_COLUMNS)
        .order_by("-created_at", "-id")
    )


def my_list_item_get(*, user, content_id: int) -> MyListItem | None:
    return MyListItem.objects.filter(user=user, content_id=content_id).first()


def access_playlist(*, user, playlist_id: int, for_update: bool = False) -> Playlist:
    """The playlist if it is this user's own; another user's does not exist for this one."""
    queryset = Playlist.objects.filter(pk=playlist_id, user=user)
    if for_update:
        queryset = queryset.select_for_update()
    playlist = queryset.first()
    if playlist is None:
        raise NotFoundError("No such playlist.", code="playlist_not_found")
    return playlist


def playlists(*, user) -> QuerySet[Playlist]:
    return Playlist.objects.filter(user=user).annotate(item_count=Count("items")).order_by("-updated_at", "-id")


def playlist_items(*, playlist: Playlist, user) -> list[PlaylistItem]:
    """Every item in order, content joined, each with `available`. The owner sees unavailable items
    too (without their content), so a reorder can name every item."""
    condition = visible_content_q(user=user)
    available = ExpressionWrapper(condition, output_field=BooleanField()) if condition else Value(True)
    return list(
        PlaylistItem.objects.filter(playlist=playlist)
        .select_related("content")
        .annotate(available=available)
        .order_by("position", "id")
    )


def playlist_available_items(*, playlist: Playlist, user=None) -> list[PlaylistItem]:
    return list(
        PlaylistItem.objects.filter(visible_content_q(user=user), playlist=playlist)
        .select_related("content")
        .order_by("position", "id")
    )


def access_shared_playlist(*, token: str) -> Playlist:
    """The playlist this share link opens, for anyone holding it."""
    playlist = Playlist.objects.filter(share_token=token).first() if token else None
    if playlist is None:
        raise NotFoundError("No such playlist.", code="playlist_not_found")
    return playlist
