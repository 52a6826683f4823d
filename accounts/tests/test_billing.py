"""Stripe webhook intake: signatures checked by the stripe library, each event once, out-of-order
safe, events waiting for their customer, subscriptions and passes as entitlements, grace on a failed
payment, `subscription_changed` as before."""

import hashlib
import hmac
import json
import time
from datetime import UTC, datetime, timedelta

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from accounts.entitlements import grants_now
from accounts.models import BillingEvent, Entitlement, EntitlementLog
from analytics.models import OutboxEvent
from testing.factories import ProductFactory, UserFactory, product_with

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("webhook_secret")]

SECRET = "whsec_test_secret"
URL = "/api/v1/billing/stripe/webhook/"
T0 = int(time.time()) - 600


@pytest.fixture
def webhook_secret():
    with override_settings(STRIPE_WEBHOOK_SECRET=SECRET):
        yield


def signed(payload: str, secret: str = SECRET, at: int | None = None) -> str:
    at = int(time.time()) if at is None else at
    digest = hmac.new(secret.encode(), f"{at}.{payload}".encode(), hashlib.sha256).hexdigest()
    return f"t={at},v1={digest}"


def deliver(event: dict, signature: str | None = None):
    payload = json.dumps(event)
    headers = {"Stripe-Signature": signature if signature is not None else signed(payload)}
    return APIClient().post(URL, payload, content_type="application/json", headers=headers)


_ids = iter(range(1, 10**6))


def event(type_: str, obj: dict, created: int) -> dict:
    return {"id": f"evt_{next(_ids)}", "object": "event", "type": type_, "created": created, "data": {"object": obj}}


def subscription(status: str, price: str, period_end: int, user=None, **extra) -> dict:
    return {
        "id": "sub_1",
        "object": "subscription",
        "customer": "cus_1",
        "status": status,
        "start_date": T0,
        "metadata": {"csn_user_id": str(user.pk)} if user else {},
        "items": {"data": [{"price": {"id": price}, "current_period_end": period_end}]},
        **extra,
    }


def ends_at(user, product) -> datetime | None:
    return Entitlement.objects.get(user=user, product=product, source="billing").ends_at


def at(epoch: int) -> datetime:
    return datetime.fromtimestamp(epoch, tz=UTC)


def test_forged_stale_and_unsigned_deliveries_are_refused_and_change_nothing():
    user = UserFactory()
    product_with({}, stripe_price_id="price_league")
    body = event("customer.subscription.created", subscription("active", "price_league", T0 + 86400, user), T0)
    payload = json.dumps(body)
    for signature in (
        "",
        signed(payload, secret="whsec_other"),
        signed(payload, at=int(time.time()) - 3600),
        "t=1,v1=00",
    ):
        response = deliver(body, signature)
        assert (response.status_code, response.json()["code"]) == (400, "bad_signature")
    tampered = APIClient().post(
        URL,
        payload.replace("active", "trialing"),
        content_type="application/json",
        headers={"Stripe-Signature": signed(payload)},
    )
    assert tampered.status_code == 400
    assert not BillingEvent.objects.exists() and not Entitlement.objects.exists()
    with override_settings(STRIPE_WEBHOOK_SECRET=""):
        assert deliver(body).json()["code"] == "billing_not_configured"


def test_a_subscription_grants_its_product_until_the_period_end_and_a_replay_changes_nothing():
    user = UserFactory()
    league = product_with({"sport": "basketball"}, stripe_price_id="price_league", max_streams=2)
    created = event("customer.subscription.created", subscription("active", "price_league", T0 + 86400, user), T0)
    response = deliver(created)
    assert response.status_code == 200 and response.json()["status"] == "applied"
    assert ends_at(user, league) == at(T0 + 86400)
    assert grants_now(user_id=user.pk).max_streams == 2

    logged = EntitlementLog.objects.count()
    assert deliver(created).json()["status"] == "applied"  # the stored answer: nothing done again
    assert (BillingEvent.objects.count(), EntitlementLog.objects.count()) == (1, logged)

    renewed = event("customer.subscription.updated", subscription("active", "price_league", T0 + 2 * 86400), T0 + 60)
    deliver(renewed)
    assert ends_at(user, league) == at(T0 + 2 * 86400)


def test_events_out_of_order_the_newest_wins():
    user = UserFactory()
    league = product_with({}, stripe_price_id="price_league")
    deliver(event("customer.subscription.created", subscription("active", "price_league", T0 + 86400, user), T0))
    canceled = subscription("canceled", "price_league", T0 + 86400, ended_at=T0 + 120)
    deliver(event("customer.subscription.deleted", canceled, T0 + 120))
    # an update sent before the cancellation arrives after it
    late = event("customer.subscription.updated", subscription("active", "price_league", T0 + 5 * 86400), T0 + 60)
    assert deliver(late).json()["status"] == "applied"
    assert ends_at(user, league) == at(T0 + 120)
    assert grants_now(user_id=user.pk).rules == frozenset()


def test_an_event_for_an_unknown_customer_waits_for_the_checkout_that_names_the_user():
    user = UserFactory()
    league = product_with({}, stripe_price_id="price_league")
    early = deliver(event("customer.subscription.created", subscription("active", "price_league", T0 + 86400), T0 + 5))
    assert early.json()["status"] == "pending"
    assert not Entitlement.objects.exists()
    checkout = {
        "id": "cs_1",
        "object": "checkout.session",
        "customer": "cus_1",
        "client_reference_id": str(user.pk),
        "mode": "subscription",
    }
    assert deliver(event("checkout.session.completed", checkout, T0)).json()["status"] == "applied"
    assert ends_at(user, league) == at(T0 + 86400)
    assert set(BillingEvent.objects.values_list("status", flat=True)) == {"applied"}


def test_a_failed_payment_keeps_access_for_the_grace_then_recovery_or_lapse():
    user = UserFactory()
    league = product_with({}, stripe_price_id="price_league")
    now = int(time.time())
    deliver(
        event("customer.subscription.created", subscription("active", "price_league", now + 30 * 86400, user), now - 60)
    )
    failed = {
        "id": "in_1",
        "object": "invoice",
        "customer": "cus_1",
        "parent": {"subscription_details": {"subscription": "sub_1"}},
    }
    deliver(event("invoice.payment_failed", failed, now - 30))
    assert ends_at(user, league) == at(now - 30) + timedelta(days=3)
    assert grants_now(user_id=user.pk).rules  # still held, in grace
    # the retry succeeds: the period stands again
    deliver(event("customer.subscription.updated", subscription("active", "price_league", now + 30 * 86400), now))
    assert ends_at(user, league) == at(now + 30 * 86400)


def test_the_premium_plan_follows_billing_and_sends_subscription_changed():
    user = UserFactory()
    premium = ProductFactory(code="premium-billing", kind="plan")
    with override_settings(CSN_PLAN_PRODUCT=premium.code):
        premium.stripe_price_id = "price_premium"
        premium.save()
        deliver(event("customer.subscription.created", subscription("active", "price_premium", T0 + 86400, user), T0))
        user.subscription.refresh_from_db()
        assert (user.subscription.plan, user.subscription.status) == ("premium", "active")
        assert OutboxEvent.objects.filter(name="subscription_changed").count() == 1
        deliver(event("customer.subscription.updated", subscription("past_due", "price_premium", T0 + 86400), T0 + 60))
        user.subscription.refresh_from_db()
        assert user.subscription.status == "past_due" and user.subscription.is_premium_active  # in grace


def test_a_one_off_pass_purchase():
    user = UserFactory()
    game_pass = product_with({"game_id": 7}, code="game-7", kind="single_game", pass_days=2)
    session = {
        "id": "cs_2",
        "object": "checkout.session",
        "customer": "cus_9",
        "client_reference_id": str(user.pk),
        "mode": "payment",
        "payment_status": "paid",
        "metadata": {"csn_product": "game-7"},
    }
    assert deliver(event("checkout.session.completed", session, T0)).json()["note"] == "game-7 purchased"
    assert ends_at(user, game_pass) == at(T0) + timedelta(days=2)
    assert deliver(event("charge.refunded", {"id": "ch_1", "customer": "cus_9"}, T0)).json()["status"] == "ignored"


@pytest.mark.django_db(transaction=True)
def test_the_same_event_delivered_twice_at_once_is_applied_once():
    from accounts.billing import billing_event_receive
    from testing.concurrency import at_once

    user = UserFactory()
    league = product_with({}, stripe_price_id="price_league")
    body = event("customer.subscription.created", subscription("active", "price_league", T0 + 86400, user), T0)
    results = at_once(lambda: billing_event_receive(event=body), lambda: billing_event_receive(event=body))
    assert [getattr(r, "event_id", r) for r in results] == [body["id"], body["id"]]
    assert BillingEvent.objects.count() == 1
    assert Entitlement.objects.filter(user=user, product=league).count() == 1
    assert EntitlementLog.objects.count() == 1


def test_a_signed_payload_that_is_not_an_event_is_malformed_and_recorded_nowhere():
    envelope = {"object": "event", "type": "customer.subscription.updated", "created": T0, "data": {"object": {}}}
    for body in (
        envelope,  # no id
        {**envelope, "id": "e" * 101},  # longer than CSN keeps
        {**envelope, "id": 5},
        {**envelope, "id": "evt_x", "created": "yesterday"},
        {**envelope, "id": "evt_x", "created": 10**20},  # past year 9999
        {**envelope, "id": "evt_x", "created": None},
        {**envelope, "id": "evt_x", "data": "nope"},
        {**envelope, "id": "evt_x", "data": {"object": [1]}},
        [1, 2],
        "a string",
    ):
        response = deliver(body)
        assert (response.status_code, response.json()["code"]) == (400, "malformed_event"), body
    assert not BillingEvent.objects.exists()


def test_a_value_of_the_wrong_kind_in_a_signed_event_is_recorded_ignored_and_grants_nothing():
    user = UserFactory()
    product_with({}, stripe_price_id="price_league")
    product_with({"sport": "hockey"}, stripe_price_id="price_team")
    good = {"price": {"id": "price_league"}, "current_period_end": T0 + 86400}
    cases = {
        "items not a list": {"items": {"data": {"a": 1}}},
        "an item not an object": {"items": {"data": [good, "x"]}},
        "a price id not a string": {"items": {"data": [{"price": {"id": ["price_league"]}}]}},
        # the first item valid, the second not: nothing of the event is kept
        "a period end not a time": {
            "items": {"data": [good, {"price": {"id": "price_team"}, "current_period_end": "x"}]}
        },
        "a status not a string": {"status": ["active"]},
        "no subscription id": {"id": None},
        "metadata not an object": {"metadata": ["csn_user_id"], "customer": "cus_2"},
    }
    for name, change in cases.items():
        obj = {**subscription("active", "price_league", T0 + 86400, user), **change}
        response = deliver(event("customer.subscription.updated", obj, T0))
        assert response.status_code == 200, (name, response.json())
        assert (response.json()["status"], response.json()["note"][:10]) == ("ignored", "malformed:"), name
    assert not Entitlement.objects.exists()
    # a user id past any id, a customer that is a number: not a 500, the event waits for its customer
    obj = {**subscription("active", "price_league", T0 + 86400), "customer": 5, "metadata": {"csn_user_id": "9" * 30}}
    assert deliver(event("customer.subscription.updated", obj, T0)).json()["status"] == "pending"
    failed = event("invoice.payment_failed", {"customer": "cus_1", "subscription": ["sub_1"]}, T0)
    assert deliver(failed).json()["note"].startswith("malformed:")
    checkout = {"id": "cs_1", "customer": "cus_1", "mode": "payment", "payment_status": "paid"}
    bought = event("checkout.session.completed", {**checkout, "metadata": {"csn_product": ["league"]}}, T0)
    assert deliver(bought).json()["note"].startswith("malformed:")
    assert not Entitlement.objects.exists()
