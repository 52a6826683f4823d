"""Products and entitlements: what a user holds (reads) and granting, changing and revoking it (writes,
each audited in EntitlementLog with who and why). Whether a rule unlocks a catalogue item or a game is
the catalogue's business (content/services/rights.py); this module only knows the rules."""

import functools
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings
from django.db import router, transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import Entitlement, EntitlementLog, Product, ProductRule
from csn.errors import ApplicationError
from csn.statements import Statement, raw_models

# A rule as the catalogue matches it: (sport, team_id, game_id, content_type); blank/None = any.
Rule = tuple[str, int | None, int | None, str]
# The rule of a product that unlocks everything (the premium plan's).
UNLOCKS_EVERYTHING: Rule = ("", None, None, "")


@dataclass(frozen=True)
class Held:
    """One product a user holds in force: its id, how many streams it allows at once, its rules."""

    product_id: int
    max_streams: int
    rules: frozenset[Rule]


@dataclass(frozen=True)
class Grants:
    """The union of a user's entitlements in force: every rule of every product they hold, and the
    largest concurrent-stream allowance among those products (at least CSN_STREAM_LIMIT_WITHOUT_PRODUCT);
    `products`, each product apart (playback's per-product stream limit), by id."""

    rules: frozenset[Rule]
    max_streams: int
    products: tuple[Held, ...] = ()


def no_grants() -> Grants:
    return Grants(rules=frozenset(), max_streams=settings.CSN_STREAM_LIMIT_WITHOUT_PRODUCT)


def in_force_q(now=None, prefix: str = "") -> Q:
    now = now or timezone.now()
    return Q(**{f"{prefix}revoked_at": None, f"{prefix}starts_at__lte": now}) & (
        Q(**{f"{prefix}ends_at": None}) | Q(**{f"{prefix}ends_at__gt": now})
    )


_GRANTS_CACHE = "_csn_grants"


def user_grants(*, user) -> Grants:
    """The user's grants now (remembered on the user object for the request: a request's user is
    loaded anew each time). Anonymous users hold nothing."""
    if user is None or not user.is_authenticated:
        return no_grants()
    cached = getattr(user, _GRANTS_CACHE, None)
    if cached is None:
        cached = grants_now(user_id=user.pk)
        setattr(user, _GRANTS_CACHE, cached)
    return cached


def grants_now(*, user_id: int) -> Grants:
    """The grants of the user's entitlements in force now, in one query (never remembered: for
    long-lived callers such as a socket). A constant statement (`csn.statements.Statement`): playback
    asks on every start, and compiling the query was a large part of its CPU."""
    rows = _grants_statement(router.db_for_read(Entitlement)).rows(user_id, timezone.now())
    rules, streams = set(), settings.CSN_STREAM_LIMIT_WITHOUT_PRODUCT
    products: dict[int, tuple[int, set]] = {}
    for product_id, max_streams, rule_id, *rule in rows:
        streams = max(streams, max_streams)
        product_rules = products.setdefault(product_id, (max_streams, set()))[1]
        if rule_id is not None:
            rules.add(tuple(rule))
            product_rules.add(tuple(rule))
    held = tuple(Held(pk, limit, frozenset(held_rules)) for pk, (limit, held_rules) in sorted(products.items()))
    return Grants(rules=frozenset(rules), max_streams=streams, products=held)


def grants_query(*, user_id: int, now=None):
    """The rows `grants_now` reads: (product id, max_streams, rule id, sport, team_id, game_id,
    content_type) per rule of each product the user holds in force (rule columns None for a product
    without rules)."""
    return (
        Entitlement.objects.filter(in_force_q(now), user_id=user_id)
        .values_list(
            "product_id",
            "product__max_streams",
            "product__rules__id",
            "product__rules__sport",
            "product__rules__team_id",
            "product__rules__game_id",
            "product__rules__content_type",
        )
        .order_by()
    )


# Markers of the statement's parameters (no user has this id; no entitlement this date).
_ANY_USER = -7_000_000_002
_ANY_TIME = datetime(1901, 2, 3, 4, 5, 6, 789, tzinfo=UTC)


@functools.cache
def _grants_statement(alias: str) -> Statement:
    return Statement(grants_query(user_id=_ANY_USER, now=_ANY_TIME), markers=(_ANY_USER, _ANY_TIME), alias=alias)


def products_matching(*, sports, team_ids, game_id: int | None, content_type: str, limit: int = 20) -> list[Product]:
    """Active products with a rule matching these facts (what would unlock an item or a live stream),
    in one query whatever the number of products on sale, by name. Plain SQL (`csn.statements.raw_models`):
    every `not_entitled` refusal asks, and compiling the ORM's form was a large part of its CPU."""
    sports, team_ids = sorted(sports), sorted(team_ids)
    sport = "r.sport = %s" + (f" OR r.sport IN ({', '.join(['%s'] * len(sports))})" if sports else "")
    team = "r.team_id IS NULL" + (f" OR r.team_id IN ({', '.join(['%s'] * len(team_ids))})" if team_ids else "")
    sql = (
        f"SELECT p.* FROM {Product._meta.db_table} p WHERE p.is_active = %s AND EXISTS ("  # noqa: S608 - our tables
        f"SELECT 1 FROM {ProductRule._meta.db_table} r WHERE r.product_id = p.id AND ({sport}) AND ({team})"
        " AND (r.game_id IS NULL OR r.game_id = %s) AND (r.content_type = %s OR r.content_type = %s)"
        ") ORDER BY p.name LIMIT %s"
    )
    params = [True, "", *sports, *team_ids, game_id, "", content_type, limit]
    return raw_models(Product, sql, params, alias=router.db_for_read(Product))


def user_entitlements(*, user) -> list[Entitlement]:
    """The user's entitlements in force, soonest ending last (for the /me/entitlements/ list)."""
    return list(
        Entitlement.objects.filter(in_force_q(), user_id=user.pk).select_related("product").order_by("-starts_at")
    )


# --- writes -------------------------------------------------------------------------------------


def _forget_grants(user) -> None:
    if hasattr(user, _GRANTS_CACHE):
        delattr(user, _GRANTS_CACHE)


def _log(entitlement: Entitlement, *, action: str, actor, reason: str) -> None:
    EntitlementLog.objects.create(
        entitlement=entitlement, action=action, actor=actor, reason=reason, ends_at=entitlement.ends_at
    )


def _require_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError(
            "Say why.", code="reason_required", fields={"reason": [{"code": "required", "message": "Say why."}]}
        )
    return reason


@transaction.atomic
def entitlement_grant(
    *, user, product: Product, actor, reason: str, starts_at=None, ends_at=None, source: str = Entitlement.Source.ADMIN
) -> Entitlement:
    """Staff grant a product by hand (a goodwill pass, a partner deal): audited with the reason. Without
    an end date a product with `pass_days` lasts that long; otherwise until revoked."""
    reason = _require_reason(reason)
    starts_at = starts_at or timezone.now()
    if ends_at is None and product.pass_days:
        ends_at = starts_at + timezone.timedelta(days=product.pass_days)
    if ends_at is not None and ends_at <= starts_at:
        raise ApplicationError("The end must come after the start.", code="invalid_period")
    entitlement = Entitlement.objects.create(
        user=user, product=product, source=source, starts_at=starts_at, ends_at=ends_at
    )
    _log(entitlement, action=EntitlementLog.Action.GRANT, actor=actor, reason=reason)
    _forget_grants(user)
    return entitlement


@transaction.atomic
def entitlement_revoke(*, entitlement: Entitlement, actor, reason: str) -> Entitlement:
    """Staff take an entitlement back (a refund, abuse): it stops counting at once; audited."""
    reason = _require_reason(reason)
    entitlement = Entitlement.objects.select_for_update().get(pk=entitlement.pk)
    if entitlement.revoked_at is None:
        entitlement.revoked_at = timezone.now()
        entitlement.save(update_fields=["revoked_at"])
        _log(entitlement, action=EntitlementLog.Action.REVOKE, actor=actor, reason=reason)
    return entitlement


def entitlement_set_external(
    *, user, product: Product, source: str, external_id: str, ends_at, event_time, reason: str, starts_at=None
) -> Entitlement | None:
    """Billing (or the plan) says how long `external_id` grants `product`: create or move its end. An
    update older than the newest one applied (`event_time`) changes nothing (None): events may arrive
    out of order. Audited as a change. Runs inside the caller's transaction."""
    entitlement, created = Entitlement.objects.select_for_update().get_or_create(
        source=source,
        external_id=external_id,
        product=product,
        defaults={
            "user": user,
            "starts_at": starts_at or event_time,
            "ends_at": ends_at,
            "external_updated_at": event_time,
        },
    )
    if created:
        _log(entitlement, action=EntitlementLog.Action.GRANT, actor=None, reason=reason)
        return entitlement
    if entitlement.external_updated_at and event_time < entitlement.external_updated_at:
        return None
    entitlement.ends_at, entitlement.external_updated_at = ends_at, event_time
    entitlement.save(update_fields=["ends_at", "external_updated_at"])
    _log(entitlement, action=EntitlementLog.Action.CHANGE, actor=None, reason=reason)
    return entitlement


def plan_product() -> Product:
    """The premium plan's product; made (unlocking everything, 3 streams) if staff deleted it or a fresh
    database has none (migration 0004 makes it)."""
    product, created = Product.objects.get_or_create(
        code=settings.CSN_PLAN_PRODUCT, defaults={"name": "Premium", "kind": Product.Kind.PLAN, "max_streams": 3}
    )
    if created:
        ProductRule.objects.create(product=product)
    return product


def plan_entitlement_sync(*, user, active: bool, ends_at, reason: str) -> None:
    """The subscription plan's product (CSN_PLAN_PRODUCT) follows the user's Subscription: held while it
    is active (until its period end), ended when it is not. Runs inside the caller's transaction."""
    product = plan_product()
    now = timezone.now()
    entitlement = (
        Entitlement.objects.select_for_update()
        .filter(user=user, product=product, source=Entitlement.Source.PLAN, revoked_at=None)
        .first()
    )
    if active:
        if entitlement is None:
            entitlement = Entitlement.objects.create(
                user=user, product=product, source=Entitlement.Source.PLAN, starts_at=now, ends_at=ends_at
            )
            _log(entitlement, action=EntitlementLog.Action.GRANT, actor=None, reason=reason)
        elif entitlement.ends_at != ends_at:
            entitlement.ends_at = ends_at
            entitlement.save(update_fields=["ends_at"])
            _log(entitlement, action=EntitlementLog.Action.CHANGE, actor=None, reason=reason)
    elif entitlement is not None:
        entitlement.revoked_at = now
        entitlement.save(update_fields=["revoked_at"])
        _log(entitlement, action=EntitlementLog.Action.REVOKE, actor=None, reason=reason)
    _forget_grants(user)
