"""Constant statements: a queryset compiled once, run with new parameter values, its rows made into
models as the ORM makes them. For the hottest reads, where compiling the queryset anew on every
request was a large share of the request's CPU (`python -m bench viewing`)."""

from django.db import connections
from django.db.models.query import get_related_populators


class Statement:
    """`queryset` compiled once for database `alias`. A marker is a value that stands in the queryset for
    a parameter that changes (a user's id, the time): `run(*values)` executes the SQL with the values in
    the markers' places, in the markers' order (every place a marker stands). `marker=` names one;
    `markers=` several. A marker is matched as it appears among the compiled parameters: a value the
    database adapts (a datetime on SQLite becomes text) is given, and run, adapted (`db_value`)."""

    def __init__(self, queryset, *, alias: str, marker=None, markers: tuple = ()):
        self.alias = alias
        self.compiler = queryset.query.get_compiler(using=alias)
        self.sql, params = self.compiler.as_sql()
        self.params = list(params)
        markers = (marker,) if marker is not None else tuple(markers)
        self.places = [[i for i, param in enumerate(self.params) if param == m] for m in markers]
        if not all(self.places):
            raise ValueError("a marker is not among the statement's parameters")

    def run(self, *values) -> list:
        params = list(self.params)
        for places, value in zip(self.places, values, strict=True):
            for i in places:
                params[i] = value
        with connections[self.alias].cursor() as cursor:
            cursor.execute(self.sql, params)
            rows = cursor.fetchall()
        return rows_as_models(self.compiler, rows, self.alias)


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
