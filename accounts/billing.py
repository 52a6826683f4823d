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

Malformed, even when signed: an event CSN cannot read as an event (no id, an id too long, no creation
time or one out of range, `data.object` not an object) is refused `malformed_event` (400) and recorded
nowhere; an event whose object has a value of the wrong kind (a period end that is not a time, an item
that is not an object) is recorded as ignored with a note saying what, and grants nothing.
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


class MalformedEvent(ApplicationError):
    """A signed event CSN cannot read (see the module's docstring)."""

    def __init__(self, message: str):
        super().__init__(message, code="malformed_event", status=400)


# The latest creation time an event may carry (Stripe's are seconds since 1970; year 9999 at most).
_LAST_EPOCH = 253_402_300_799


def webhook_event_verify(*, payload: bytes, signature: str | None) -> dict:
    """The event, if the signature holds for our secret (and is recent); else `bad_signature` (400);
    `malformed_event` (400) when what was signed is not an event."""
    if not settings.STRIPE_WEBHOOK_SECRET:
        raise ApplicationError("Billing is not configured.", code="billing_not_configured", status=503)
    try:
        event = stripe.Webhook.construct_event(payload, signature or "", settings.STRIPE_WEBHOOK_SECRET)
    except (stripe.SignatureVerificationError, ValueError) as exc:
        raise ApplicationError("The webhook signature does not hold.", code="bad_signature") from exc
    except (AttributeError, TypeError) as exc:  # signed, but JSON that is not an object
        raise MalformedEvent("The payload is not an event.") from exc
    return event.to_dict()


def _envelope(event: dict) -> dict:
    """The event if CSN can record it (an id, a creation time, an object); else `malformed_event`."""
    event_id = event.get("id")
    if not isinstance(event_id, str) or not 0 < len(event_id) <= 100:
        raise MalformedEvent("The event has no id CSN can keep (a string of at most 100 characters).")
    _time(event.get("created"))
    data = event.get("data")
    if not isinstance(data, dict) or not isinstance(data.get("object"), dict):
        raise MalformedEvent("The event's data.object is not an object.")
    return event


def billing_event_receive(*, event: dict) -> BillingEvent:
    """Record and apply a verified event once. A replay returns the stored row untouched. An event CSN
    cannot record is refused `malformed_event` (nothing recorded, nothing granted)."""
    event = _envelope(event)
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
    """Seconds since 1970 as Stripe sends them; `malformed_event` for anything else."""
    if isinstance(epoch, bool) or not isinstance(epoch, int | str) or not str(epoch).isdigit():
        raise MalformedEvent(f"{str(epoch)[:40]!r} is not a time.")
    if int(epoch) > _LAST_EPOCH:
        raise MalformedEvent(f"{str(epoch)[:40]} is out of range for a time.")
    return datetime.fromtimestamp(int(epoch), tz=UTC)


def _object(value) -> dict:
    """A member expected to be an object: {} when absent; `malformed_event` when of another kind."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise MalformedEvent(f"Expected an object, got {type(value).__name__}.")
    return value


def _text(value) -> str:
    """A member expected to be a string (an id, a code): "" when absent; `malformed_event` otherwise."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise MalformedEvent(f"Expected a string, got {type(value).__name__}.")
    return value


def _customer_id(obj: dict) -> str:
    customer = obj.get("customer") or ""
    if isinstance(customer, dict):
        customer = customer.get("id", "")
    return customer[:100] if isinstance(customer, str) else ""


def _user_for(row: BillingEvent, obj: dict) -> User | None:
    if row.customer_id:
        known = BillingCustomer.objects.filter(stripe_customer_id=row.customer_id).select_related("user").first()
        if known is not None:
            return known.user
    named = obj.get("client_reference_id") or _object(obj.get("metadata")).get("csn_user_id")
    if not named or not str(named).isdigit() or int(named) > 2**63 - 1:
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
    try:
        user = _user_for(row, obj)
        if user is None:
            _mark(row, BillingEvent.Status.PENDING, "customer not yet known")
            return
        with transaction.atomic():  # a malformed value undoes what the handler did before it
            note = handler(row, obj, user)
    except MalformedEvent as exc:
        _mark(row, BillingEvent.Status.IGNORED, f"malformed: {exc.message}")
        return
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
    status = _text(subscription.get("status"))
    if status in ACCESS:
        return _period_end(subscription, item) or event_time
    if status == "past_due":
        return event_time + timedelta(days=settings.CSN_BILLING_GRACE_DAYS)
    if status in ENDED and subscription.get("ended_at"):
        return _time(subscription["ended_at"])
    return event_time  # incomplete, ended: nothing from now


def _on_subscription(row: BillingEvent, subscription: dict, user: User) -> str:
    items = _object(subscription.get("items")).get("data") or []
    if not isinstance(items, list):
        raise MalformedEvent("The subscription's items.data is not a list.")
    subscription_id = _text(subscription.get("id"))
    if not subscription_id:
        raise MalformedEvent("The subscription has no id.")
    applied = []
    for item in map(_object, items):
        price = _text(_object(item.get("price")).get("id"))
        product = Product.objects.filter(stripe_price_id=price).first() if price else None
        if product is None:
            continue
        ends_at = _access_end(subscription, item, row.created)
        entitlement = entitlement_set_external(
            user=user,
            product=product,
            source=Entitlement.Source.BILLING,
            external_id=subscription_id,
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
    status = _text(subscription.get("status"))
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
        _object(_object(invoice.get("parent")).get("subscription_details")).get("subscription")
    )
    if isinstance(subscription_id, dict):  # expanded
        subscription_id = subscription_id.get("id")
    subscription_id = _text(subscription_id)
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
    code = _text(_object(session.get("metadata")).get("csn_product"))
    if not _text(session.get("id")):
        raise MalformedEvent("The checkout session has no id.")
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
