"""Staff grant and revoke products by hand in admin, each with a reason, in the entitlement's log."""

import pytest
from django.test import Client

from accounts.entitlements import grants_now
from accounts.models import Entitlement, EntitlementLog
from testing.factories import UserFactory, product_with

pytestmark = pytest.mark.django_db
ADD = "/admin/accounts/entitlement/add/"


@pytest.fixture
def staff(superuser) -> Client:
    client = Client()
    client.force_login(superuser)
    return client


def test_grant_needs_a_reason_and_is_logged(staff, superuser):
    user = UserFactory()
    product = product_with({"sport": "hockey"}, pass_days=30)
    form = {
        "user": user.pk,
        "product": product.pk,
        "starts_at_0": "",
        "starts_at_1": "",
        "ends_at_0": "",
        "ends_at_1": "",
    }
    refused = staff.post(ADD, {**form, "reason": ""})
    assert refused.status_code == 200 and not Entitlement.objects.exists()  # the form again: say why

    assert staff.post(ADD, {**form, "reason": "Goodwill: stream outage on 2 Dec"}).status_code == 302
    entitlement = Entitlement.objects.get()
    assert (entitlement.user, entitlement.source, entitlement.ends_at is not None) == (user, "admin", True)  # pass_days
    log = EntitlementLog.objects.get()
    assert (log.action, log.actor, log.reason) == ("grant", superuser, "Goodwill: stream outage on 2 Dec")
    assert grants_now(user_id=user.pk).rules == frozenset({("hockey", None, None, "")})


def test_revoke_needs_a_reason_is_logged_and_takes_effect_at_once(staff, superuser):
    user = UserFactory()
    product = product_with({})
    staff.post(ADD, {"user": user.pk, "product": product.pk, "reason": "partner deal"})
    entitlement = Entitlement.objects.get()
    change = f"/admin/accounts/entitlement/{entitlement.pk}/change/"
    assert staff.get(change).status_code == 200
    assert staff.post(change, {"revoke": "on", "reason": ""}).status_code == 200  # say why
    assert staff.post(change, {"revoke": "on", "reason": "refunded"}).status_code == 302
    entitlement.refresh_from_db()
    assert entitlement.revoked_at is not None and not grants_now(user_id=user.pk).rules
    assert list(EntitlementLog.objects.order_by("id").values_list("action", "reason")) == [
        ("grant", "partner deal"),
        ("revoke", "refunded"),
    ]
    assert staff.post(f"/admin/accounts/entitlement/{entitlement.pk}/delete/", {"post": "yes"}).status_code == 403


def test_me_entitlements_lists_the_products_in_force():
    from datetime import timedelta

    from django.utils import timezone
    from rest_framework.test import APIClient

    from testing.factories import holding

    user = UserFactory()
    held = product_with({"sport": "soccer"}, code="soccer", name="Soccer pass")
    holding(user, held)
    holding(user, product_with({}, code="lapsed"), ends_at=timezone.now() - timedelta(days=1))
    client = APIClient()
    client.force_authenticate(user)
    body = client.get("/api/v1/me/entitlements/").json()
    assert [(e["product"]["code"], e["source"], e["ends_at"]) for e in body] == [("soccer", "admin", None)]
    assert APIClient().get("/api/v1/me/entitlements/").status_code == 401
