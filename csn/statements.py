"""Constant statements: a queryset compiled once, run with new parameter values, its rows made into
models as the ORM makes them. For the hottest reads, where compiling the queryset anew on every
request was a large share of the request's CPU (`python -m bench viewing`)."""

import datetime
import functools

from django.db import connections
from django.db.models.query import get_related_populators


class Statement:
    """`queryset` compiled once for database `alias`. A marker is a value that stands in the queryset for
    a parameter that changes (a user's id, the time): `run(*values)` executes the SQL with the values in
    the markers' places, in the markers' order (every place a marker stands). `marker=` names one;
    `markers=` several. A datetime marker is found, and its value put, as the database adapts datetimes
    (SQLite: text); a marker and a value already adapted (`db_value`) work as well. `rows(*values)`
    answers the converted rows, for `values_list` querysets."""

    def __init__(self, queryset, *, marker=None, markers=(), alias: str):
        self.alias = alias
        self.compiler = queryset.query.get_compiler(using=alias)
        self.sql, params = self.compiler.as_sql()
        self.params = list(params)
        self.markers = (marker,) if marker is not None else tuple(markers)
        self.places = []
        for each in self.markers:
            adapted = self._adapt(each)
            places = [at for at, param in enumerate(self.params) if type(param) is type(adapted) and param == adapted]
            if not places:
                raise ValueError(f"The marker {each!r} is not among the statement's parameters.")
            self.places.append(places)

    def _adapt(self, value):
        return db_value(self.alias, value) if isinstance(value, datetime.datetime) else value

    def _execute(self, values) -> list:
        if len(values) != len(self.places):
            raise TypeError(f"{len(self.places)} value(s) expected, {len(values)} given.")
        params = list(self.params)
        for value, places in zip(values, self.places, strict=True):
            value = self._adapt(value)
            for at in places:
                params[at] = value
        with connections[self.alias].cursor() as cursor:
            cursor.execute(self.sql, params)
            return cursor.fetchall()

    def run(self, *values) -> list:
        return rows_as_models(self.compiler, self._execute(values), self.alias)

    def rows(self, *values) -> list[tuple]:
        return list(self.compiler.results_iter([self._execute(values)], tuple_expected=True))


def db_value(alias: str, when):
    """A datetime as database `alias` receives it as a parameter (a marker's form, and a run's value)."""
    return connections[alias].ops.adapt_datetimefield_value(when)


def rows_as_models(compiler, rows, alias: str) -> list:
    """Rows of a compiled select as model instances with their select_related objects and annotations
    (what the ORM's ModelIterable does, given the rows)."""
    klass_info, select = compiler.klass_info, compiler.select
    start, end = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
    names = [column[0].target.attname for column in select[start:end]]
    populators = get_related_populators(klass_info, select, alias)
    annotations = compiler.annotation_col_map.items()
    items = []
    for row in compiler.results_iter([rows]):
        item = klass_info["model"].from_db(alias, names, row[start:end])
        for populator in populators:
            populator.populate(row, item)
        for name, position in annotations:
            setattr(item, name, row[position])
        items.append(item)
    return items


def raw_models(model, sql: str, params, *, alias: str) -> list:
    """`model.objects.raw(sql, params)` as a list, for a statement run on every request: the plan that
    Django's RawQuerySet works out from the cursor's columns on each run (which columns are fields, in
    what order, their converters; a seventh of a progress write's CPU) is worked out once per set of
    columns. Columns that are not the model's fields become attributes, as with `raw`."""
    connection = connections[alias]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        columns = _column_names(cursor)
        rows = cursor.fetchall()
    names, positions, extras, converters = _raw_plan(model, columns, alias)
    items = []
    for row in rows:
        if converters:
            row = list(row)
            for position, (convert, expression) in converters:
                value = row[position]
                for converter in convert:
                    value = converter(value, expression, connection)
                row[position] = value
        item = model.from_db(alias, names, [row[position] for position in positions])
        for column, position in extras:
            setattr(item, column, row[position])
        items.append(item)
    return items


def _column_names(cursor) -> tuple:
    """The names of the result's columns. psycopg's `description` builds a Column object, with its type's
    details, for every column: two fifths of the token lookup (which selects every column of the user). The
    names alone come from the result itself."""
    result = getattr(cursor, "pgresult", None)  # psycopg; SQLite's cursor has none
    if result is None:
        return tuple(column[0] for column in cursor.description)
    return tuple(result.fname(index).decode() for index in range(result.nfields))


@functools.cache
def _raw_plan(model, columns: tuple, alias: str):
    connection = connections[alias]
    identifier = connection.introspection.identifier_converter
    by_column = {identifier(field.column): field for field in model._meta.concrete_fields}
    fields = [field for field in model._meta.concrete_fields if identifier(field.column) in columns]
    if model._meta.pk not in fields:
        raise ValueError("A raw statement must select the primary key.")
    names = [field.attname for field in fields]
    positions = [columns.index(identifier(field.column)) for field in fields]
    extras = [(column, position) for position, column in enumerate(columns) if column not in by_column]
    converters = []
    for position, column in enumerate(columns):
        field = by_column.get(column)
        if field is None:
            continue
        expression = field.get_col(model._meta.db_table)
        convert = connection.ops.get_db_converters(expression) + expression.get_db_converters(connection)
        if convert:
            converters.append((position, (convert, expression)))
    return names, positions, extras, converters
