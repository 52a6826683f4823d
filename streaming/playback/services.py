"""Playback authorization: may this user play this item or this game's live stream, here, now? If so a
viewing session (the same as the live presence sessions: one concurrent-stream limit for both) and a
short-lived signed address for it; if not, a refusal the player can act on:

| code | when | with |
| `not_found` | no such item or game (or an item the user may not see) | |
| `not_available_yet` | the item's window has not opened / the game has not started | `available_from` / `starts_at` |
| `expired` | the item's window has closed / the game is over | `available_until` / `ended_at` |
| `not_entitled` | a premium item or a live stream none of the user's products unlocks | `products` |
| `region_unavailable` | a blacked-out game (or its replays) and CSN cannot tell where the viewer is | |
| `blackout` | the viewer's region is blacked out | `region`, `replay_opens_at` |
| `stream_limit` | all the streams its product allows are open (`stream_pool`) | `limit`, `product`, `sessions` |

The stream limit is per product (`stream_pool`): a playback counts against the product, among those
that grant what it plays, that allows the most streams; what needs no product (a free item, a game's
chat presence without its stream) against the user's product allowing the most, or the account's own
allowance (CSN_STREAM_LIMIT_WITHOUT_PRODUCT) when that is more.
"""

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import router, transaction
from django.db.models import Exists, OuterRef, Subquery
from django.utils import timezone

from accounts.entitlements import UNLOCKS_EVERYTHING, Grants, Held, grants_now
from accounts.location import Region
from accounts.models import Product
from content.models import Content, Game, MediaAsset, Team
from content.services.rights import Facts, content_facts, game_facts, products_unlocking, rule_matches, unlocked
from csn.errors import ApplicationError, ConflictError, NotFoundError, PermissionDeniedError
from csn.representation import datetime_text
from csn.statements import Statement
from streaming.live.models import GameEvent, LiveSession
from streaming.live.representation import session_data
from streaming.live.services.presence import open_sessions, session_start
from streaming.playback.models import Blackout
from streaming.playback.signing import beside, is_absolute, playback_url

# The manifests a ready media asset of an item may be (HLS); other assets (thumbnails, sources) are not played.
MANIFEST_TYPES = ("application/vnd.apple.mpegurl", "application/x-mpegurl", "audio/mpegurl")


@dataclass(frozen=True)
class Playback:
    session: LiveSession
    url: str
    expires_at: datetime


def _refused(code: str, message: str, status: int = 403, **extra) -> ApplicationError:
    return ApplicationError(message, code=code, status=status, extra=extra)


def playback_start(
    *,
    user,
    region: Callable[[], Region | None],
    content_id: int | None = None,
    game_id: int | None = None,
    device="",
    replace=None,
) -> Playback:
    """Authorize one playback of an item (`content_id`) or of a game's live stream (`game_id`) and open
    its session. `region` finds the viewer's region, asked only for a game with blackouts. Refusals are
    listed in the module's docstring; nothing is opened when refused."""
    if not user or not user.is_authenticated:
        raise PermissionDeniedError("Sign in to watch.", code="auth_required")
    now = timezone.now()
    grants = grants_now(user_id=user.pk)  # what the user holds: unlocks, and the stream limit
    facts_of: Callable[[], Facts] | None  # what a product must unlock to play it (None: nothing, a free item)
    if content_id is not None:
        # Staff may play drafts (reviewing them); viewers published items, in their window or not (a
        # player is told when an item opens or that it closed).
        content = content_for_playback(content_id=content_id, staff=bool(user.is_staff))
        if content is None:
            raise NotFoundError("No such content.")
        _check_window(content, now)
        facts_of = None
        if content.is_premium:
            facts_of = functools.cache(lambda: content_facts(content, content_teams(content_id=content.pk)))
            _check_entitled(grants, facts_of)
        if content.game_id is not None and content.blacked_out:
            _check_blackout(content.game, region, now, live=False)
        source = content_source(content)
        watched = {"content_id": content.pk}
    else:
        game = Game.objects.filter(pk=game_id).first()
        if game is None:
            raise NotFoundError("No such game.")
        _check_game_on_air(game)
        facts_of = functools.cache(lambda: game_facts(game))
        _check_entitled(grants, facts_of)
        _check_blackout(game, region, now, live=True)
        source = settings.CSN_LIVE_MANIFEST.format(game_id=game.pk)
        watched = {"game_id": game.pk}
    pool = stream_pool(grants, facts_of)
    # When every open session would count against this pool too (it is the best one and unlocks whatever a
    # session plays: it unlocks everything, it is the only product, or there is none), session_start's
    # count of all the open sessions is the check; otherwise it is a first check (fewer open in all than
    # the pool allows: fewer counted against it), and only past it are the sessions counted one by one.
    counts_all = pool == _best_pool(grants) and (
        pool.unlocks_everything or not grants.products or (len(grants.products) == 1 and pool.product_id is not None)
    )
    start = functools.partial(session_start, user=user, device=device, playback=True, **watched)
    with transaction.atomic():
        try:
            session = start(replace=replace, max_streams=pool.limit)
        except ConflictError as exc:
            if exc.code != "stream_limit":
                raise
            if counts_all:
                exc.extra["product"] = _product_brief(pool)
                raise
            # The user's row is locked and a session `replace`d ended (nothing opened): count, then open
            # it if the pool has room (a refusal rolls the transaction back: nothing replaced, nobody told).
            _check_stream_pool(user=user, grants=grants, pool=pool, now=now)
            session = start(replace=None, max_streams=_CHECKED)
    url, expires_at = playback_url(source=source, session_id=session.pk)
    return Playback(session=session, url=url, expires_at=expires_at)


# --- the stream limit, per product -------------------------------------------------------------------

# The limit session_start is told once `_check_stream_pool` found room: more than anyone holds.
_CHECKED = 2**31


@dataclass(frozen=True)
class StreamPool:
    """Whose streams a viewing session uses: a product the user holds (`product_id`) or, for what needs
    no product, the account's own allowance (`product_id` None, CSN_STREAM_LIMIT_WITHOUT_PRODUCT)."""

    product_id: int | None
    limit: int
    unlocks_everything: bool = False


def _rank(pool: StreamPool):
    # Most streams first; a product before the account's allowance; then the oldest product.
    return (-pool.limit, pool.product_id is None, pool.product_id or 0)


def _product_pool(held: Held) -> StreamPool:
    return StreamPool(held.product_id, held.max_streams, UNLOCKS_EVERYTHING in held.rules)


def _all_pools(grants: Grants) -> list[StreamPool]:
    return [*map(_product_pool, grants.products), StreamPool(None, settings.CSN_STREAM_LIMIT_WITHOUT_PRODUCT)]


def stream_pool(grants: Grants, facts_of: Callable[[], Facts | None] | None) -> StreamPool:
    """The pool a stream of something counts against: among the user's products whose rules unlock it
    (`facts_of()`), the one allowing the most streams (ties: the oldest product). What needs no product
    (`facts_of` None or answering None: a free item) or that no product of the user unlocks (a game's chat
    presence, an item whose product lapsed while it played) counts against the best of all the user's
    pools, the account's own allowance included. The facts are gathered only when a rule could tell."""
    best = _best_pool(grants)
    if facts_of is None or best.unlocks_everything:
        return best  # it would be among the candidates, and first
    facts = facts_of()
    if facts is None:
        return best
    granting = [
        _product_pool(held) for held in grants.products if any(rule_matches(rule, facts) for rule in held.rules)
    ]
    return min(granting, key=_rank) if granting else best


def _session_facts(session: LiveSession) -> Facts | None:
    """What an open session plays, as rules match it (None: what needs no product)."""
    if session.content_id is not None:
        content = content_for_playback(content_id=session.content_id, staff=True)
        if content is None or not content.is_premium:
            return None
        return content_facts(content, content_teams(content_id=content.pk))
    game = Game.objects.filter(pk=session.game_id).first()
    return game_facts(game) if game is not None else None


def _best_pool(grants: Grants) -> StreamPool:
    return min(_all_pools(grants), key=_rank)


def _product_brief(pool: StreamPool) -> dict | None:
    if pool.product_id is None:
        return None
    return Product.objects.filter(pk=pool.product_id).values("code", "name", "kind").first()


def _check_stream_pool(*, user, grants: Grants, pool: StreamPool, now) -> None:
    """With the user's row locked: refused `stream_limit` when `pool` (`stream_pool`) has as many open
    sessions counted against it as it allows, naming that limit, its product and those sessions (ending
    any one makes room)."""
    alive_since = now - timedelta(seconds=settings.LIVE_PRESENCE_TIMEOUT_SECONDS)
    sessions = _open_sessions_statement(router.db_for_read(LiveSession)).run(user.pk, alive_since)
    counted = [s for s in sessions if stream_pool(grants, functools.partial(_session_facts, s)) == pool]
    if len(counted) < pool.limit:
        return
    raise ConflictError(
        f"This allows {pool.limit} stream(s) at a time.",
        code="stream_limit",
        extra={"limit": pool.limit, "product": _product_brief(pool), "sessions": [session_data(s) for s in counted]},
    )


# Markers of a constant statement's parameters (no user has this id; no session this date).
_ANY_USER = -7_000_000_006
_ANY_TIME = datetime(1901, 2, 3, 4, 5, 6, 789, tzinfo=UTC)


@functools.cache
def _open_sessions_statement(alias: str) -> Statement:
    return Statement(
        open_sessions(user_id=_ANY_USER, alive_since=_ANY_TIME), markers=(_ANY_USER, _ANY_TIME), alias=alias
    )


def content_query(*, content_id: int, staff: bool):
    """The item a playback of `content_id` plays, if this kind of user may (staff: drafts too): its game
    joined, its newest ready manifest (`manifest_file`) and whether its game has blackouts
    (`blacked_out`) in the same query; only the columns a playback reads."""
    queryset = Content.objects.all() if staff else Content.objects.filter(state=Content.State.PUBLISHED)
    return (
        queryset.select_related("game")
        .only(*PLAYBACK_CONTENT_COLUMNS)
        .annotate(
            manifest_file=Subquery(_ready_manifests(OuterRef("pk")).values("file")[:1]),
            blacked_out=Exists(Blackout.objects.filter(game_id=OuterRef("game_id"))),
        )
        .filter(pk=content_id)
        .order_by()
    )


# What a playback reads of an item and its game (not the catalogue's text, tags, images).
PLAYBACK_CONTENT_COLUMNS = [
    *("state", "type", "is_premium", "video_url", "available_from", "available_until", "game"),
    *(f"game__{name}" for name in ("sport", "home_team", "away_team", "status", "starts_at", "updated_at")),
]
# Marks the item's place among a constant statement's parameters (no item has it).
_ANY_CONTENT = -7_000_000_004


@functools.cache
def _content_statement(*, staff: bool, alias: str) -> Statement:
    return Statement(content_query(content_id=_ANY_CONTENT, staff=staff), marker=_ANY_CONTENT, alias=alias)


@functools.cache
def _teams_statement(alias: str) -> Statement:
    return Statement(
        Team.objects.filter(content=_ANY_CONTENT).order_by().values_list("id", "sport"),
        marker=_ANY_CONTENT,
        alias=alias,
    )


def content_for_playback(*, content_id: int, staff: bool) -> Content | None:
    """`content_query`'s item or None, run as a constant statement (csn.statements.Statement): compiled
    once per kind of user and database, not on every playback."""
    items = _content_statement(staff=staff, alias=router.db_for_read(Content)).run(content_id)
    return items[0] if items else None


def content_teams(*, content_id: int) -> list[dict]:
    """The item's teams as `content_facts` takes them (id and sport)."""
    rows = _teams_statement(router.db_for_read(Team)).rows(content_id)
    return [{"id": pk, "sport": sport} for pk, sport in rows]


def _check_window(content: Content, now) -> None:
    if content.available_from and content.available_from > now:
        raise _refused(
            "not_available_yet",
            "This item is not available yet.",
            available_from=datetime_text(content.available_from),
        )
    if content.available_until and content.available_until <= now:
        raise _refused(
            "expired",
            "This item is no longer available.",
            status=410,
            available_until=datetime_text(content.available_until),
        )


def _check_game_on_air(game: Game) -> None:
    if game.status in (Game.Status.SCHEDULED, Game.Status.POSTPONED):
        starts_at = datetime_text(game.starts_at) if game.status == Game.Status.SCHEDULED else None
        raise _refused("not_available_yet", "This game has not started.", starts_at=starts_at)
    if game.status == Game.Status.FINAL:
        raise _refused(
            "expired",
            "This game is over; its replays are items.",
            status=410,
            ended_at=datetime_text(game_ended_at(game)),
        )


def _check_entitled(grants: Grants, facts_of: Callable[[], Facts]) -> None:
    """Refused `not_entitled` unless one of the user's rules unlocks the facts (gathered only when a rule
    could tell: a rule unlocking everything, the premium plan, needs none)."""
    if UNLOCKS_EVERYTHING in grants.rules:
        return
    facts = facts_of()
    if not unlocked(grants, facts):
        products = [{"code": p.code, "name": p.name, "kind": p.kind} for p in products_unlocking(facts)]
        raise _refused("not_entitled", "None of your products includes this.", products=products)


def game_ended_at(game: Game) -> datetime | None:
    """When a final game ended: its last scorekeeper event with the final status (else its last edit)."""
    if game.status != Game.Status.FINAL:
        return None
    event = GameEvent.objects.filter(game=game, status=Game.Status.FINAL).order_by("-created_at").first()
    return event.created_at if event else game.updated_at


def blackout_matches(blackout: Blackout, region: Region) -> bool:
    postal = f"{region.country}:{region.postal_code}" if region.postal_code else ""
    return (
        region.country in blackout.countries
        or (bool(region.subdivision) and f"{region.country}-{region.subdivision}" in blackout.subdivisions)
        or (bool(postal) and any(postal.startswith(prefix) for prefix in blackout.postal_prefixes if prefix))
    )


def _check_blackout(game: Game, region_of: Callable[[], Region | None], now, *, live: bool) -> None:
    """A blacked-out game's live stream may not be shown in its regions; its items (replays) open there
    `replay_after_minutes` after the game ends. An unknown region cannot be cleared."""
    blackouts = list(Blackout.objects.filter(game=game))
    if not blackouts:
        return
    ended_at = game_ended_at(game)
    if not live:
        still_closed = [
            b for b in blackouts if ended_at is None or now < ended_at + timedelta(minutes=b.replay_after_minutes)
        ]
        if not still_closed:
            return
        blackouts = still_closed
    region = region_of()
    if region is None:
        raise _refused(
            "region_unavailable",
            "This game is blacked out in some regions and your region is unknown; watch through the CDN or "
            "verify your location.",
        )
    for blackout in blackouts:
        if blackout_matches(blackout, region):
            opens = ended_at + timedelta(minutes=blackout.replay_after_minutes) if ended_at else None
            raise _refused(
                "blackout",
                "This game is blacked out in your region.",
                region=region.data(),
                replay_opens_at=datetime_text(opens),
                replay_after_minutes=blackout.replay_after_minutes,
            )


def _ready_manifests(content):
    return MediaAsset.objects.filter(
        content=content, status=MediaAsset.Status.READY, content_type__in=MANIFEST_TYPES
    ).order_by("-created_at")


def content_source(content: Content) -> str:
    """What an item plays: its newest ready HLS asset (a storage key), else its video URL. An item
    loaded by `playback_start` brings the asset's key along (`manifest_file`)."""
    if hasattr(content, "manifest_file"):
        manifest = content.manifest_file
    else:
        manifest = _ready_manifests(content).values_list("file", flat=True).first()
    if manifest:
        return manifest
    if content.video_url:
        return content.video_url
    raise ConflictError("This item has no video yet.", code="not_available_yet", extra={"available_from": None})


def manifest_session(*, session_id) -> tuple[LiveSession, str]:
    """The open session a CSN-served playback URL names, and its source; `session_ended` once it is
    over (ended, replaced, timed out): a copied URL stops working with its session."""
    alive_since = timezone.now() - timedelta(seconds=settings.LIVE_PRESENCE_TIMEOUT_SECONDS)
    session = (
        LiveSession.objects.select_related("content")
        .filter(pk=session_id, playback=True, ended_at=None, last_heartbeat_at__gte=alive_since)
        .first()
    )
    if session is None:
        raise _refused("session_ended", "This playback session is over; start playback again.", status=410)
    if session.content is not None:
        return session, content_source(session.content)
    return session, settings.CSN_LIVE_MANIFEST.format(game_id=session.game_id)


def stream_source(*, session_id, name: str | None = None) -> str:
    """What a CSN-signed address of an open session serves: its manifest (`name` None: a storage key or
    an absolute URL to redirect to), or the file `name` beside a stored manifest (a segment, a variant
    playlist: the player's relative addresses). `session_ended` once the session is over; `not_found`
    for a name outside the manifest's folder or beside a manifest CSN does not store (a redirect's
    neighbours are the source's)."""
    _session, source = manifest_session(session_id=session_id)
    if name is None:
        return source
    key = None if is_absolute(source) else beside(source, name)
    if key is None:
        raise NotFoundError("No such file in this stream.")
    return key
