"""Constant statements: `raw_models` makes the models `Model.objects.raw` makes, and a `Statement` answers
what its queryset answers, on either engine."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.db.models import Q
from django.utils import timezone

from accounts.models import User
from csn.statements import Statement, raw_models
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


# --- Statement: a queryset compiled once, its marked parameters replaced on each run -------------------

_ANY_ID = -7_000_000_901
_ANY_TIME = datetime(1901, 1, 1, 0, 0, 0, 123, tzinfo=UTC)


def _joined_since(*, user_id, since):
    return User.objects.filter(pk=user_id, date_joined__gte=since).order_by()


def test_a_statement_with_an_id_and_a_datetime_marker_answers_what_the_queryset_answers():
    user = UserFactory()
    statement = Statement(
        _joined_since(user_id=_ANY_ID, since=_ANY_TIME), markers=(_ANY_ID, _ANY_TIME), alias=connection.alias
    )
    for since in (user.date_joined - timedelta(seconds=1), user.date_joined, user.date_joined + timedelta(seconds=1)):
        expected = list(_joined_since(user_id=user.pk, since=since))
        made = statement.run(user.pk, since)
        assert [(u.pk, u.email, u.date_joined) for u in made] == [(u.pk, u.email, u.date_joined) for u in expected]
    assert statement.run(user.pk + 1, user.date_joined - timedelta(days=1)) == []


def test_a_marker_standing_in_several_places_is_replaced_in_each():
    old, new = UserFactory(), UserFactory()
    User.objects.filter(pk=old.pk).update(date_joined=timezone.now() - timedelta(days=3), last_login=None)
    queryset = User.objects.filter(Q(date_joined__gte=_ANY_TIME) | Q(last_login__gte=_ANY_TIME)).values_list("pk")
    statement = Statement(queryset, markers=(_ANY_TIME,), alias=connection.alias)
    since = timezone.now() - timedelta(days=1)
    User.objects.filter(pk=new.pk).update(last_login=None)
    assert statement.rows(since) == [(new.pk,)]
    User.objects.filter(pk=old.pk).update(last_login=timezone.now())
    assert sorted(statement.rows(since)) == sorted([(old.pk,), (new.pk,)])


def test_rows_are_converted_as_the_orm_converts_them():
    user = UserFactory()
    queryset = User.objects.filter(pk=_ANY_ID).values_list("pk", "is_active", "date_joined")
    (row,) = Statement(queryset, marker=_ANY_ID, alias=connection.alias).rows(user.pk)
    assert row == (user.pk, True, User.objects.get(pk=user.pk).date_joined)
    assert row[2].tzinfo is not None


def test_a_marker_missing_from_the_parameters_or_a_wrong_count_of_values_is_refused():
    with pytest.raises(ValueError, match="marker"):
        Statement(User.objects.filter(pk=_ANY_ID), markers=(_ANY_ID, _ANY_TIME), alias=connection.alias)
    statement = Statement(User.objects.filter(pk=_ANY_ID), marker=_ANY_ID, alias=connection.alias)
    with pytest.raises(TypeError):
        statement.run(1, 2)


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
