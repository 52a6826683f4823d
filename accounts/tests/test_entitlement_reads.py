"""The hot entitlement reads run as constant statements or plain SQL: `grants_now` answers what its
queryset (`grants_query`) answers, and `products_matching` what the ORM's form of the same matching
answers (the reference below), periods, revocations, inactive products, limit and order included."""

from datetime import timedelta

import pytest
from django.db.models import Q
from django.utils import timezone

from accounts.entitlements import grants_now, grants_query, products_matching
from accounts.models import Entitlement, Product
from testing.factories import ProductFactory, UserFactory, holding, product_with

pytestmark = pytest.mark.django_db


def _grants_by_orm(user_id):
    rows = list(grants_query(user_id=user_id))
    return {tuple(rule) for _, _, rule_id, *rule in rows if rule_id is not None}, max(
        [1, *(streams for _, streams, *_ in rows)]
    )


@pytest.mark.django_db
def test_grants_now_counts_exactly_the_entitlements_in_force(settings):
    settings.CSN_STREAM_LIMIT_WITHOUT_PRODUCT = 1
    now = timezone.now()
    in_force = product_with({"sport": "hockey"}, {"team_id": 7}, max_streams=2)
    lapsed = product_with({"sport": "soccer"}, max_streams=5)
    future = product_with({"game_id": 9}, max_streams=4)
    revoked = product_with({"content_type": "clip"}, max_streams=6)
    no_rules = ProductFactory(max_streams=3)
    user = holding(UserFactory(), in_force, no_rules)
    holding(user, lapsed, ends_at=now - timedelta(seconds=1))
    Entitlement.objects.create(
        user=user, product=future, source=Entitlement.Source.ADMIN, starts_at=now + timedelta(minutes=5)
    )
    Entitlement.objects.create(user=user, product=revoked, source=Entitlement.Source.ADMIN, revoked_at=now)
    other = holding(UserFactory(), lapsed)

    grants = grants_now(user_id=user.pk)
    assert grants.rules == {("hockey", None, None, ""), ("", 7, None, "")}
    assert grants.max_streams == 3  # the product without rules still raises the limit
    assert (set(grants.rules), grants.max_streams) == _grants_by_orm(user.pk)
    # each product apart, for the per-product stream limit
    assert [(held.product_id, held.max_streams, held.rules) for held in grants.products] == sorted(
        [(in_force.pk, 2, {("hockey", None, None, ""), ("", 7, None, "")}), (no_rules.pk, 3, frozenset())]
    )
    assert grants_now(user_id=other.pk).rules == {("soccer", None, None, "")}
    assert grants_now(user_id=UserFactory().pk).rules == frozenset()
    assert grants_now(user_id=UserFactory().pk).max_streams == 1


def _matching_by_orm(*, sports, team_ids, game_id, content_type, limit=20):
    rules = (
        (Q(rules__sport="") | Q(rules__sport__in=list(sports)))
        & (Q(rules__team_id=None) | Q(rules__team_id__in=list(team_ids)))
        & (Q(rules__game_id=None) | Q(rules__game_id=game_id))
        & (Q(rules__content_type="") | Q(rules__content_type=content_type))
    )
    matching = Product.objects.filter(rules, is_active=True).values("pk")
    return list(Product.objects.filter(pk__in=matching).order_by("name")[:limit])


FACTS = [
    {"sports": {"hockey"}, "team_ids": {7, 8}, "game_id": 9, "content_type": "full_game"},
    {"sports": {"hockey", "soccer"}, "team_ids": {8}, "game_id": None, "content_type": "clip"},
    {"sports": set(), "team_ids": set(), "game_id": None, "content_type": "show"},
    {"sports": {"soccer"}, "team_ids": set(), "game_id": 10, "content_type": "live"},
]


@pytest.mark.parametrize("facts", FACTS)
def test_products_matching_answers_what_the_orm_form_answers(facts):
    product_with({}, name="Everything")
    product_with({"sport": "hockey"}, name="Hockey")
    product_with({"sport": "soccer", "content_type": "live"}, name="Soccer live")
    product_with({"team_id": 7}, {"team_id": 8}, name="Teams 7 and 8")  # two rules match: listed once
    product_with({"game_id": 9}, name="Game 9")
    product_with({"content_type": "clip"}, name="Clips")
    product_with({"sport": "hockey", "team_id": 8}, name="Hockey team 8")  # both in one rule
    product_with({"sport": "hockey"}, name="Old hockey", is_active=False)  # not on sale
    ProductFactory(name="No rules")

    names = [p.name for p in products_matching(**facts)]
    assert names == [p.name for p in _matching_by_orm(**facts)]
    assert names == sorted(names) and "Everything" in names and "Old hockey" not in names and "No rules" not in names
    assert all(isinstance(p, Product) and p.code for p in products_matching(**facts))


def test_products_matching_stops_at_the_limit_by_name():
    for n in range(5):
        product_with({"sport": "hockey"}, name=f"Pass {4 - n}")
    facts = {"sports": {"hockey"}, "team_ids": set(), "game_id": None, "content_type": "clip"}
    assert [p.name for p in products_matching(**facts, limit=3)] == ["Pass 0", "Pass 1", "Pass 2"]
