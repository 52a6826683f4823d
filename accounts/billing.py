"""Billing intake: Stripe's webhook events become entitlements (and the Subscription summary).

- Authentic only: the `Stripe-Signature` header is checked with the endpoint's secret by the `stripe`
  library (HMAC, no network); a forged or stale (> 5 min) delivery is refused and changes nothing.
- Once per event id: a replay is acknowledged and ignored (BillingEvent.event_id is unique).
- Out of order: each entitlement remembers the time of the newest event applied to it; an older event
  changes nothing. An event for a customer not yet known waits (`pending`) and is applied, in event
  order, when the customer's user becomes known (checkout.session.completed names the user in
  `client_reference_id`; a subscription may carry `metadata.csn_user_id`).

Handled: `checkout.session.completed` (the customer's user; a one-off pass named by
`metadata.csn_product`), `customer.subscription.created|updated|deleted` (each item's price is a
product: held until the period's end; `past_due` keeps it CSN_BILLING_GRACE_DAYS from the failure;
canceled ends it; cancellation at period end keeps it until then), `invoice.payment_failed` (the
grace). Others are recorded as ignored. The plan's product (CSN_PLAN_PRODUCT) also updates the
user's Subscription, which sends `subscription_changed` as before.
"""

import logging
from datetime import UTC, datetime, timedelta

import stripe
from django.conf import settings
from django.db import IntegrityError, transaction

from accounts.entitlements import entitlement_set_external
from accounts.models import BillingCustomer, BillingEvent, Entitlement, Product, Subscription, User
from accounts.services import subscription_update
from csn.errors import ApplicationError, ConflictError

logger = logging.getLogger(__name__)

ACCESS = {"active", "trialing"}
ENDED = {"canceled", "unpaid", "incomplete_expired"}


def webhook_event_verify(*, payload: bytes, signature: str | None) -> dict:
    """The event, if the signature holds for our secret (and is recent); else `bad_signature` (400)."""
    if not settings.STRIPE_WEBHOOK_SECRET:
        raise ApplicationError("Billing is not configured.", code="billing_not_configured", status=503)
    try:
        event = stripe.Webhook.construct_event(payload, signature or "", settings.STRIPE_WEBHOOK_SECRET)
    except (stripe.SignatureVerificationError, ValueError) as exc:
        raise ApplicationError("The webhook signature does not hold.", code="bad_signature") from exc
    return event.to_dict()


def billing_event_receive(*, event: dict) -> BillingEvent:
    """Record and apply a verified event once. A replay returns the stored row untouched."""
    existing = BillingEvent.objects.filter(event_id=event["id"]).first()
    if existing is not None:
        return existing
    obj = event.get("data", {}).get("object", {}) or {}
    for _attempt in range(3):
        try:
            with transaction.atomic():
                row = BillingEvent.objects.create(
                    event_id=event["id"],
                    type=str(event.get("type", ""))[:80],
                    created=_time(event.get("created")),
                    customer_id=_customer_id(obj),
                    status=BillingEvent.Status.PENDING,
                    payload=event,
                )
                _apply(row)
            return row
        except IntegrityError:
            existing = BillingEvent.objects.filter(event_id=event["id"]).first()
            if existing is not None:  # delivered twice at once: the other delivery applied it
                return existing
            # another event of the same subscription created its entitlement first: apply again
    raise ConflictError("Busy with this subscription; deliver again.", code="billing_busy")


def _time(epoch) -> datetime:
    return datetime.fromtimestamp(int(epoch or 0), tz=UTC)


def _customer_id(obj: dict) -> str:
    customer = obj.get("customer") or ""
    return str(customer if isinstance(customer, str) else customer.get("id", ""))[:100]


def _user_for(row: BillingEvent, obj: dict) -> User | None:
    if row.customer_id:
        known = BillingCustomer.objects.filter(stripe_customer_id=row.customer_id).select_related("user").first()
        if known is not None:
            return known.user
    named = obj.get("client_reference_id") or (obj.get("metadata") or {}).get("csn_user_id")
    if not named or not str(named).isdigit():
        return None
    user = User.objects.filter(pk=int(named)).first()
    if user is not None and row.customer_id:
        BillingCustomer.objects.get_or_create(user=user, defaults={"stripe_customer_id": row.customer_id})
    return user


def _mark(row: BillingEvent, status: str, note: str = "") -> None:
    row.status, row.note = status, note[:200]
    row.save(update_fields=["status", "note"])


def _apply(row: BillingEvent) -> None:
    obj = row.payload.get("data", {}).get("object", {}) or {}
    handler = HANDLERS.get(row.type)
    if handler is None:
        _mark(row, BillingEvent.Status.IGNORED, "not an event CSN acts on")
        return
    user = _user_for(row, obj)
    if user is None:
        _mark(row, BillingEvent.Status.PENDING, "customer not yet known")
        return
    note = handler(row, obj, user)
    _mark(row, BillingEvent.Status.APPLIED, note or "")
    if row.customer_id:
        _apply_pending(row.customer_id)


def _apply_pending(customer_id: str) -> None:
    """Events that waited for this customer's user (now known), applied in the order the provider
    created them."""
    waiting = BillingEvent.objects.filter(customer_id=customer_id, status=BillingEvent.Status.PENDING)
    for row in waiting.order_by("created", "id"):
        _apply(row)


def _period_end(subscription: dict, item: dict) -> datetime | None:
    # API versions from 2025-03-31 keep the period on each item; older ones on the subscription.
    end = item.get("current_period_end") or subscription.get("current_period_end")
    return _time(end) if end else None


def _access_end(subscription: dict, item: dict, event_time: datetime) -> datetime:
    status = subscription.get("status")
    if status in ACCESS:
        return _period_end(subscription, item) or event_time
    if status == "past_due":
        return event_time + timedelta(days=settings.CSN_BILLING_GRACE_DAYS)
    if status in ENDED and subscription.get("ended_at"):
        return _time(subscription["ended_at"])
    return event_time  # incomplete, ended: nothing from now


def _on_subscription(row: BillingEvent, subscription: dict, user: User) -> str:
    items = (subscription.get("items") or {}).get("data") or []
    applied = []
    for item in items:
        price = ((item.get("price") or {}).get("id")) or ""
        product = Product.objects.filter(stripe_price_id=price).first() if price else None
        if product is None:
            continue
        ends_at = _access_end(subscription, item, row.created)
        entitlement = entitlement_set_external(
            user=user,
            product=product,
            source=Entitlement.Source.BILLING,
            external_id=subscription["id"],
            starts_at=_time(subscription["start_date"]) if subscription.get("start_date") else None,
            ends_at=ends_at,
            event_time=row.created,
            reason=f"stripe {row.type} {row.event_id}: {subscription.get('status')}",
        )
        if entitlement is None:
            applied.append(f"{product.code}: older than the last applied event")
            continue
        applied.append(f"{product.code} until {ends_at:%Y-%m-%d %H:%M}")
        if product.code == settings.CSN_PLAN_PRODUCT:
            _plan_follows(user, subscription, item)
    return "; ".join(applied) or "no item's price is a product"


def _plan_follows(user: User, subscription: dict, item: dict) -> None:
    status = subscription.get("status")
    mapped = (
        Subscription.Status.ACTIVE
        if status in ACCESS
        else Subscription.Status.PAST_DUE
        if status == "past_due"
        else Subscription.Status.CANCELED
    )
    subscription_update(
        user=user,
        plan=Subscription.Plan.PREMIUM if mapped != Subscription.Status.CANCELED else Subscription.Plan.FREE,
        status=mapped,
        current_period_end=_period_end(subscription, item),
    )


def _on_payment_failed(row: BillingEvent, invoice: dict, user: User) -> str:
    subscription_id = invoice.get("subscription") or (
        ((invoice.get("parent") or {}).get("subscription_details") or {}).get("subscription")
    )
    if not subscription_id:
        return "not a subscription's invoice"
    grace_end = row.created + timedelta(days=settings.CSN_BILLING_GRACE_DAYS)
    changed = 0
    for entitlement in Entitlement.objects.filter(
        source=Entitlement.Source.BILLING, external_id=subscription_id, revoked_at=None
    ):
        if entitlement.ends_at is not None and entitlement.ends_at <= grace_end:
            continue  # already ends within the grace
        if entitlement_set_external(
            user=user,
            product=entitlement.product,
            source=Entitlement.Source.BILLING,
            external_id=subscription_id,
            ends_at=grace_end,
            event_time=row.created,
            reason=f"stripe {row.type} {row.event_id}: grace of {settings.CSN_BILLING_GRACE_DAYS} days",
        ):
            changed += 1
    return f"{changed} entitlement(s) in grace"


def _on_checkout_completed(row: BillingEvent, session: dict, user: User) -> str:
    """The customer is now known (`_user_for`). A one-off purchase (mode `payment`, paid) of a pass
    named by `metadata.csn_product` is granted for the product's `pass_days` (or until revoked)."""
    if session.get("mode") != "payment" or session.get("payment_status") != "paid":
        return "customer linked"
    code = (session.get("metadata") or {}).get("csn_product", "")
    product = Product.objects.filter(code=code).first() if code else None
    if product is None:
        return f"no product {code!r}"
    ends_at = row.created + timedelta(days=product.pass_days) if product.pass_days else None
    entitlement_set_external(
        user=user,
        product=product,
        source=Entitlement.Source.BILLING,
        external_id=session["id"],
        ends_at=ends_at,
        event_time=row.created,
        reason=f"stripe {row.type} {row.event_id}: purchase",
    )
    return f"{product.code} purchased"


HANDLERS = {
    "checkout.session.completed": _on_checkout_completed,
    "customer.subscription.created": _on_subscription,
    "customer.subscription.updated": _on_subscription,
    "customer.subscription.deleted": _on_subscription,
    "invoice.payment_failed": _on_payment_failed,
}
