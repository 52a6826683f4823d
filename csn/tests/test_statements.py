"""Constant statements: `raw_models` makes the models `Model.objects.raw` makes, on either engine."""

import pytest
from django.db import connection

from accounts.models import User
from csn.statements import raw_models
from testing.factories import UserFactory

pytestmark = pytest.mark.django_db

SQL = f"SELECT u.*, 41 + 1 AS answer FROM {User._meta.db_table} u WHERE u.id = %s"


def test_raw_models_match_the_orm_raw_including_converted_values_and_extra_columns():
    user = UserFactory()

    (made,) = raw_models(User, SQL, [user.pk], alias=connection.alias)
    (expected,) = User.objects.raw(SQL, [user.pk])

    assert isinstance(made, User)
    assert made.pk == user.pk
    assert made.email == expected.email
    # Converted as the ORM converts (SQLite returns text; the field's converter makes an aware datetime).
    assert made.date_joined == expected.date_joined == User.objects.get(pk=user.pk).date_joined
    assert made.date_joined.tzinfo is not None
    assert made.is_active is True
    assert made.answer == expected.answer == 42
    assert made._state.adding is False and made._state.db == connection.alias


def test_no_row_is_an_empty_list():
    assert raw_models(User, SQL, [0], alias=connection.alias) == []


def test_a_statement_without_the_primary_key_is_refused():
    with pytest.raises(ValueError, match="primary key"):
        raw_models(User, f"SELECT email FROM {User._meta.db_table}", [], alias=connection.alias)


def test_a_statement_puts_each_value_in_every_place_of_its_marker_and_refuses_a_missing_marker():
    from django.db.models import Q

    from csn.statements import Statement

    first, second, third = UserFactory(), UserFactory(), UserFactory()
    mark_a, mark_b = -7_000_000_201, "\x00marker"
    queryset = User.objects.filter(Q(pk=mark_a) | Q(pk__gt=mark_a, email=mark_b)).order_by("pk")
    statement = Statement(queryset, markers=(mark_a, mark_b), alias=connection.alias)

    assert [len(places) for places in statement.places] == [2, 1]
    assert [u.pk for u in statement.run(first.pk, third.email)] == [first.pk, third.pk]
    assert [u.pk for u in statement.run(second.pk, "nobody@example.com")] == [second.pk]
    with pytest.raises(ValueError, match="marker"):
        Statement(User.objects.filter(pk=1), markers=(mark_a,), alias=connection.alias)
