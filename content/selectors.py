"""Reads of the catalogue that several callers share."""

import functools
from datetime import UTC, datetime

from django.db import connection, connections
from django.db.models import BooleanField, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.utils import timezone

from content.models import Content, Game, MediaAsset, MediaRendition, Player, Team
from csn.db import read_alias
from csn.errors import NotFoundError
from csn.statements import Statement, db_value


def content_available_q(now=None) -> Q:
    """Published and inside the availability window: what a viewer may see."""
    now = now or timezone.now()
    return (
        Q(state=Content.State.PUBLISHED)
        & (Q(available_from__isnull=True) | Q(available_from__lte=now))
        & (Q(available_until__isnull=True) | Q(available_until__gt=now))
    )


def _is_staff(user) -> bool:
    return user is not None and user.is_authenticated and user.is_staff


def content_visible_to(*, user, now=None) -> QuerySet[Content]:
    """Staff see every item; everyone else only available ones (others do not exist for them).
    `now` may be the database's clock (`Now()`) for a statement compiled once and reused."""
    return content_visible(staff=_is_staff(user), now=now)


def content_visible(*, staff: bool, now=None) -> QuerySet[Content]:
    """content_visible_to a reader who is staff, or not (a statement's, compiled for every such reader)."""
    if staff:
        return Content.objects.all()
    return Content.objects.filter(content_available_q(now))


def content_relations(content_ids) -> tuple[dict[int, list[dict]], dict[int, list[dict]]]:
    """The teams and players of these items, as their brief representations by item id, by name.
    Two plain statements through the link tables: no model instance, no related manager, no query to
    compile (the ORM's `prefetch_related` of the two cost more CPU than the rest of a 20-item page)."""
    teams: dict[int, list[dict]] = {pk: [] for pk in content_ids}
    players: dict[int, list[dict]] = {pk: [] for pk in content_ids}
    if not teams:
        return teams, players
    ids = list(teams)
    with connections[read_alias()].cursor() as cursor:  # read-only: the replica when there is one
        cursor.execute(_TEAMS_SQL.format(ids=", ".join(["%s"] * len(ids))), ids)
        for content_id, pk, name, slug, sport in cursor.fetchall():
            teams[content_id].append({"id": pk, "name": name, "slug": slug, "sport": sport})
        cursor.execute(_PLAYERS_SQL.format(ids=", ".join(["%s"] * len(ids))), ids)
        for content_id, pk, name, number, position, team_id in cursor.fetchall():
            players[content_id].append(
                {"id": pk, "name": name, "number": number, "position": position, "team_id": team_id}
            )
    return teams, players


def _relation_sql(link, target, columns: str) -> str:
    return (
        f"SELECT l.content_id, {columns} FROM {link._meta.db_table} l "  # noqa: S608 - our table names
        f"JOIN {target._meta.db_table} x ON x.id = l.{target._meta.model_name}_id "
        "WHERE l.content_id IN ({ids}) ORDER BY x.name, x.id"
    )


_TEAMS_SQL = _relation_sql(Content.teams.through, Team, "x.id, x.name, x.slug, x.sport")
_PLAYERS_SQL = _relation_sql(Content.players.through, Player, "x.id, x.name, x.number, x.position, x.team_id")


def content_images(content_ids) -> dict[int, list[dict]]:
    """The image renditions of these items, by item id: [{width, height, format, url}] by width, then
    format ("jpeg", "webp"). An item's image is its newest media asset whose renditions are made (status
    ready): a newer image still being processed leaves the previous one in place, and an item with none
    has []. One plain statement, like `content_relations`; URLs from the storage (S3: signed)."""
    images: dict[int, list[dict]] = {pk: [] for pk in content_ids}
    if not images:
        return images
    ids = list(images)
    storage = MediaRendition._meta.get_field("file").storage
    chosen: dict[int, int] = {}  # item id -> the asset shown (rows come newest asset first)
    with connections[read_alias()].cursor() as cursor:  # read-only: the replica when there is one
        cursor.execute(_IMAGES_SQL.format(ids=", ".join(["%s"] * len(ids))), [MediaAsset.Status.READY.value, *ids])
        for content_id, asset_id, width, height, image_format, name in cursor.fetchall():
            if chosen.setdefault(content_id, asset_id) == asset_id:
                images[content_id].append(
                    {"width": width, "height": height, "format": image_format, "url": storage.url(name)}
                )
    return images


_IMAGES_SQL = (
    f"SELECT a.content_id, a.id, r.width, r.height, r.format, r.file FROM {MediaRendition._meta.db_table} r "  # noqa: S608 - our table names
    f"JOIN {MediaAsset._meta.db_table} a ON a.id = r.asset_id "
    "WHERE a.status = %s AND a.content_id IN ({ids}) ORDER BY a.created_at DESC, a.id DESC, r.width, r.format"
)


def access_content(*, user, content_id: int) -> Content:
    """The item if this user may see it; else NotFoundError (`not_found`): an item a user may not see
    does not exist for them. One query (a representation loads the teams and players), a constant
    statement (`_content_by_id`)."""
    alias = Content.objects.db
    found = _content_by_id(staff=_is_staff(user), alias=alias).run(content_id, *_now(user, alias))
    if not found:
        raise NotFoundError("No such content.")
    return found[0]


# Details as constant statements (csn.statements): compiling the queryset was most of a detail's CPU.
# Markers: an id no row has, and a time no request asks at (the application's clock is the bound, as in
# the lists: tests move it by hand). A test holds each equal to its queryset.
_ANY_ID = -7_000_000_003
_ANY_TIME = datetime(1901, 2, 3, 4, 5, 6, 789_012, tzinfo=UTC)


def _now(user, alias: str) -> tuple:
    """The time parameter of a statement for this user: none for staff, who see every state and time."""
    return () if _is_staff(user) else (db_value(alias, timezone.now()),)


def _visible_statement(queryset_of, *, staff: bool, alias: str) -> Statement:
    queryset = queryset_of(content_visible(staff=staff, now=_ANY_TIME))
    markers = (_ANY_ID,) if staff else (_ANY_ID, db_value(alias, _ANY_TIME))
    return Statement(queryset.using(alias), markers=markers, alias=alias)


@functools.cache
def _content_by_id(*, staff: bool, alias: str) -> Statement:
    return _visible_statement(lambda q: q.select_related("game").filter(pk=_ANY_ID)[:1], staff=staff, alias=alias)


@functools.cache
def _game_content(*, staff: bool, alias: str) -> Statement:
    return _visible_statement(
        lambda q: (
            q.filter(game_id=_ANY_ID).order_by("-published_at", "-id").select_related("game")[:GAME_CONTENT_LIMIT]
        ),
        staff=staff,
        alias=alias,
    )


@functools.cache
def _game_by_id(alias: str) -> Statement:
    queryset = Game.objects.using(alias).select_related("home_team", "away_team").filter(pk=_ANY_ID)[:1]
    return Statement(queryset, marker=_ANY_ID, alias=alias)


def content_tagged(queryset: QuerySet[Content], tag: str) -> QuerySet[Content]:
    """Items carrying `tag`, given as stored (lower-case), the one parameter of the condition as given
    (a first page's statement marks it, content.api.first_page). JSON containment on PostgreSQL (`@>`,
    served by the GIN index); SQLite asks `json_each` instead."""
    table = Content._meta.db_table
    if connection.vendor == "postgresql":
        condition = f'"{table}"."tags" @> jsonb_build_array(%s::text)'
    else:
        condition = f'EXISTS (SELECT 1 FROM json_each("{table}"."tags") WHERE json_each.value = %s)'  # noqa: S608 - table name is ours
    return queryset.filter(RawSQL(condition, (tag,), output_field=BooleanField()))  # noqa: S611 - a bound parameter


def games_with_teams(queryset: QuerySet[Game] | None = None) -> QuerySet[Game]:
    """Games with their teams, read-only: from the replica when there is one (csn.db.read_alias)."""
    queryset = Game.objects.all() if queryset is None else queryset
    return queryset.using(read_alias()).select_related("home_team", "away_team")


def game_with_teams(game_id: int) -> Game | None:
    """One game with its teams (games_with_teams), or None: a constant statement."""
    found = _game_by_id(read_alias()).run(game_id)
    return found[0] if found else None


GAME_CONTENT_LIMIT = 50


def game_content_visible_to(*, user, game: Game) -> list[Content]:
    """The newest items linked to a game (a bounded list: a game has a handful, never thousands), with
    their game; a constant statement."""
    alias = Content.objects.db
    return _game_content(staff=_is_staff(user), alias=alias).run(game.pk, *_now(user, alias))


def access_media_asset(*, user, asset_id: int) -> MediaAsset:
    """A media asset for people who may handle media (editors, publishers, superusers); else
    NotFoundError (`not_found`), the same whether the asset is missing or the user may not see it."""
    asset = None
    if _is_staff(user) and user.has_perm("content.view_mediaasset"):
        asset = MediaAsset.objects.filter(pk=asset_id).first()
    if asset is None:
        raise NotFoundError("Not found.")
    return asset


# --- the Studio dashboard (content.apps registers its panels) -------------------------------------
STUDIO_LIST_LIMIT = 10


def studio_review_queue(*, limit: int = STUDIO_LIST_LIMIT) -> tuple[int, list[Content]]:
    """Items waiting for review, oldest submission first, with `submitted_at` (their latest submission)
    and `pending_draft` (a draft revision of a published item in review counts too): (count, first rows)."""
    from django.db.models import Max, OuterRef, Subquery
    from django.db.models.functions import Coalesce

    from content.models import ContentAuditLog, ContentDraft

    submitted = (
        ContentAuditLog.objects.filter(content=OuterRef("pk"), to_state=Content.State.IN_REVIEW)
        .values("content")
        .annotate(at=Max("created_at"))
        .values("at")
    )
    in_review = Q(state=Content.State.IN_REVIEW) | Q(
        state=Content.State.PUBLISHED, pending_draft__state=ContentDraft.State.IN_REVIEW
    )
    queryset = (
        Content.objects.filter(in_review)
        .annotate(submitted_at=Coalesce(Subquery(submitted), "pending_draft__updated_at", "updated_at"))
        .select_related("pending_draft", "updated_by")
        .order_by("submitted_at", "id")
    )
    return queryset.count(), list(queryset[:limit])


def studio_scheduled(*, limit: int = STUDIO_LIST_LIMIT) -> list[dict]:
    """The next scheduled moves, soonest first: [{content, action, at}]."""
    publishing = Content.objects.filter(state=Content.State.IN_REVIEW, publish_at__isnull=False).order_by("publish_at")
    unpublishing = Content.objects.filter(
        state__in=[Content.State.IN_REVIEW, Content.State.PUBLISHED], unpublish_at__isnull=False
    ).order_by("unpublish_at")
    moves = [{"content": c, "action": "Publish", "at": c.publish_at} for c in publishing[:limit]]
    moves += [{"content": c, "action": "Unpublish", "at": c.unpublish_at} for c in unpublishing[:limit]]
    return sorted(moves, key=lambda move: (move["at"], move["content"].pk))[:limit]


def studio_failed_uploads(*, limit: int = 5) -> tuple[int, list[MediaAsset]]:
    failed = MediaAsset.objects.filter(status=MediaAsset.Status.FAILED).order_by("-updated_at", "-id")
    return failed.count(), list(failed[:limit])


def studio_published_per_day(*, days: int = 14, now=None) -> list[tuple[str, int]]:
    """Publications (in review -> published, scheduled ones included) a day, the last `days` days
    (today last), by the server's time zone: [(\"12-03\", 4), ...]."""
    from datetime import timedelta

    from django.db.models import Count
    from django.db.models.functions import TruncDate

    from content.models import ContentAuditLog

    today = timezone.localdate(now or timezone.now())
    first = today - timedelta(days=days - 1)
    rows = (
        ContentAuditLog.objects.filter(
            action=ContentAuditLog.Action.TRANSITION,
            to_state=Content.State.PUBLISHED,
            created_at__date__gte=first,
        )
        .annotate(day=TruncDate("created_at", tzinfo=timezone.get_current_timezone()))
        .values("day")
        .annotate(n=Count("id"))
    )
    counts = {row["day"]: row["n"] for row in rows}
    return [(f"{first + timedelta(days=i):%m-%d}", counts.get(first + timedelta(days=i), 0)) for i in range(days)]
