"""Reads of the catalogue that several callers share."""

from django.db import connection
from django.db.models import BooleanField, Prefetch, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.utils import timezone

from content.models import Content, Game, MediaAsset, Player, Team
from csn.db import read_alias
from csn.errors import NotFoundError


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
    if _is_staff(user):
        return Content.objects.all()
    return Content.objects.filter(content_available_q(now))


def content_with_relations(queryset: QuerySet[Content]) -> QuerySet[Content]:
    """The query shape of every content list: teams and players in one query each, whatever the page size.
    Read-only: from the replica when there is one (csn.db.read_alias)."""
    return (
        queryset.using(read_alias())
        .select_related("game")
        .prefetch_related(
            Prefetch("teams", queryset=Team.objects.only("id", "name", "slug", "sport").order_by("name")),
            Prefetch(
                "players", queryset=Player.objects.only("id", "name", "number", "position", "team_id").order_by("name")
            ),
        )
    )


def access_content(*, user, content_id: int) -> Content:
    """The item, with its relations, if this user may see it; else NotFoundError (`not_found`):
    an item a user may not see does not exist for them."""
    content = content_with_relations(content_visible_to(user=user)).filter(pk=content_id).first()
    if content is None:
        raise NotFoundError("No such content.")
    return content


def content_filter_tag(queryset: QuerySet[Content], tag: str) -> QuerySet[Content]:
    """Items carrying this tag (tags are stored lower-case). JSON containment is PostgreSQL-only
    (`@>`, served by the GIN index); SQLite asks `json_each` instead."""
    tag = tag.strip().lower()
    if connection.vendor == "postgresql":
        return queryset.filter(tags__contains=[tag])
    table = Content._meta.db_table
    return queryset.filter(
        RawSQL(  # noqa: S611 - the tag is a bound parameter
            f'EXISTS (SELECT 1 FROM json_each("{table}"."tags") WHERE json_each.value = %s)',  # noqa: S608 - table name is ours
            (tag,),
            output_field=BooleanField(),
        )
    )


def user_has_premium(*, user) -> bool:
    """An active premium subscription: the only way to a premium item's video URL."""
    if user is None or not user.is_authenticated:
        return False
    subscription = getattr(user, "subscription", None)
    try:
        return bool(subscription and subscription.is_premium_active)
    except AttributeError:
        return False


def games_with_teams(queryset: QuerySet[Game] | None = None) -> QuerySet[Game]:
    """Games with their teams, read-only: from the replica when there is one (csn.db.read_alias)."""
    queryset = Game.objects.all() if queryset is None else queryset
    return queryset.using(read_alias()).select_related("home_team", "away_team")


GAME_CONTENT_LIMIT = 50


def game_content_visible_to(*, user, game: Game) -> QuerySet[Content]:
    """The newest items linked to a game (a bounded list: a game has a handful, never thousands)."""
    queryset = content_visible_to(user=user).filter(game=game).order_by("-published_at", "-id")
    return content_with_relations(queryset)[:GAME_CONTENT_LIMIT]


def access_media_asset(*, user, asset_id: int) -> MediaAsset:
    """A media asset for people who may handle media (editors, publishers, superusers); else
    NotFoundError (`not_found`), the same whether the asset is missing or the user may not see it."""
    asset = None
    if _is_staff(user) and user.has_perm("content.view_mediaasset"):
        asset = MediaAsset.objects.filter(pk=asset_id).first()
    if asset is None:
        raise NotFoundError("Not found.")
    return asset
