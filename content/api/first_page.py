"""The first page of a catalogue list as a constant statement (csn.statements).

Compiling the page's queryset was the largest piece of an uncached list's CPU (the details' statements
showed it: a third of a list, two thirds of a detail). A list's first page asked with plain filters has
a shape that repeats: the view, the reader's kind (staff or not), the filters named, the page size. Each
shape is compiled once, with markers where the request's values go (the filters' cleaned values, the
time bound); a request of that shape runs it with its own values, and DRF's paginator and the view's
serializer do the rest as before (the same links, the same representation, the same queries).

Anything else takes the ORM's way, unchanged: a cursor (later pages), `ordering`, `search`, a parameter
the view does not know, a value that fails validation (the 400 comes from there), a filter that is a
method or whose value the database receives in another form than the cleaned one (a number cleaned to a
decimal; a date on SQLite, sent as text), and a shape whose statement cannot be made (its markers not
found among the parameters)."""

import functools
from datetime import UTC, date, datetime

from django import forms
from django.utils import timezone
from django_filters.constants import EMPTY_VALUES

from csn.statements import Statement, db_value

PAGE_PARAMETERS = frozenset({"page_size"})  # shape their page's statement by value (its LIMIT)
_TIME = datetime(1901, 2, 3, 4, 5, 7, 890_123, tzinfo=UTC)  # no request asks at this time
_SHAPES_KEPT = 512  # statements kept per view class (page sizes times filter sets); past it, compiled each time


def _marker(index: int, value):
    """A value of the cleaned value's type that no request brings; None when the type has none to spare.
    A text marker changes under lower(), upper() and strip(): a value the code changes on the way to the
    database is not found as a parameter (that shape takes the ORM's way)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return -7_000_000_100 - index
    if isinstance(value, str):
        return f" \x00CSN-marker-{index} "
    if isinstance(value, date) and not isinstance(value, datetime):
        return date(1, 2, 1 + index)
    return None


# The form fields whose cleaned values can be markers' (or are booleans, a statement each).
_MARKABLE_FIELDS = (forms.CharField, forms.ChoiceField, forms.IntegerField, forms.DateField)
_UNMARKABLE_FIELDS = (forms.DecimalField, forms.FloatField, forms.ModelChoiceField, forms.MultipleChoiceField)


@functools.cache
def _markable(filterset_class) -> frozenset[str]:
    """The filters a statement can take: no method, a field whose values have markers (not a decimal)."""
    form_fields = filterset_class().get_form_class().base_fields
    return frozenset(
        name
        for name, filter_ in filterset_class.base_filters.items()
        if filter_.method is None
        and isinstance(form_fields[name], _MARKABLE_FIELDS)
        and not isinstance(form_fields[name], _UNMARKABLE_FIELDS)
    )


class _Rows:
    """A computed page where DRF's cursor paginator expects a queryset: already ordered and limited."""

    def __init__(self, rows: list):
        self.rows = rows

    def order_by(self, *ordering):
        return self

    def __getitem__(self, window):
        return self.rows


class FirstPageStatementMixin:
    """For a catalogue ListAPIView (a CatalogueFilterSet, csn.api.pagination.CursorPagination). By
    default its rows are `get_queryset()`'s, the same for every reader; a view whose rows depend on the
    reader and the time says so: `statement_staff(request)` (the reader sees what staff see),
    `statement_timed` and `statement_queryset(staff, now)` (its queryset before filters, `now` the time
    bound), and `ordered_queryset` (what it adds once ordered, both ways)."""

    statement_timed = False  # statement_queryset takes a time bound (for readers other than staff)
    statement_columns: tuple[str, ...] = ()  # the columns the representation reads (`only`); () all

    def statement_staff(self, request) -> bool:
        return False

    def statement_alias(self) -> str:
        return self.get_queryset().db

    def statement_queryset(self, *, staff: bool, now):
        return self.get_queryset()

    def ordered_queryset(self, queryset):
        return queryset

    def list(self, request, *args, **kwargs):
        rows = self._first_page(request)
        if rows is None:
            return super().list(request, *args, **kwargs)
        page = self.paginator.paginate_queryset(_Rows(rows), request, view=self)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def _first_page(self, request):  # the rows, or None: the ORM's way
        params = request.query_params
        filterset_class = self.filterset_class
        markable = _markable(filterset_class)
        if any(name not in markable and name not in PAGE_PARAMETERS for name in params):
            return None
        filterset = filterset_class(data=params, queryset=filterset_class._meta.model._default_manager.none())
        if not filterset.is_valid():
            return None
        shape, values = [], []
        for name, value in filterset.form.cleaned_data.items():
            if value in EMPTY_VALUES:
                continue
            if isinstance(value, bool):
                shape.append((name, value))  # two values: each its own statement
                continue
            if _marker(0, value) is None:
                return None
            shape.append((name, type(value)))
            values.append(value)
        staff = self.statement_staff(request)
        alias = self.statement_alias()
        page_size = self.paginator.get_page_size(request)
        ordering = tuple(self.paginator.get_ordering(request, None, self))
        statement = _statement(type(self), (alias, staff, tuple(shape), ordering, page_size), self, filterset)
        if statement is None:
            return None
        if self.statement_timed and not staff:
            values.append(db_value(alias, timezone.now()))
        return statement.run(*values)


def _statement(view_class, key, view, filterset) -> Statement | None:
    kept = _kept(view_class)
    if key in kept:
        return kept[key]
    alias, staff, shape, ordering, page_size = key
    timed = view.statement_timed and not staff
    queryset = view.statement_queryset(staff=staff, now=_TIME if timed else None)
    markers = []
    for name, kind in shape:
        value = kind if isinstance(kind, bool) else _marker(len(markers), filterset.form.cleaned_data[name])
        queryset = filterset.filters[name].filter(queryset, value)
        if not isinstance(kind, bool):
            markers.append(value)
    if timed:
        markers.append(db_value(alias, _TIME))
    if view.statement_columns:  # and the ordering's, which the paginator reads for the next cursor
        queryset = queryset.only(*view.statement_columns, *(term.lstrip("-") for term in ordering))
    queryset = view.ordered_queryset(queryset.order_by(*ordering))[: page_size + 1]
    try:
        statement = Statement(queryset.using(alias), markers=tuple(markers), alias=alias)
    except ValueError:  # a marker the database receives in another form: this shape takes the ORM's way
        statement = None
    if len(kept) < _SHAPES_KEPT:
        kept[key] = statement
    return statement


@functools.cache
def _kept(view_class) -> dict:
    return {}
