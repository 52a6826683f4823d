"""Django's SQLite backend, validating integers to the ranges PostgreSQL's columns hold.

SQLite stores any integer column in 64 bits, so Django lets a model's IntegerField take up to 2**63 there
and only up to 2**31 on PostgreSQL. The API (its validation and its OpenAPI schema, whose committed
copy CI compares against the served one) must not depend on the engine: the embedded default refuses what
production refuses and serves the same schema."""

from django.db.backends.base.operations import BaseDatabaseOperations
from django.db.backends.sqlite3 import base, operations


class DatabaseOperations(operations.DatabaseOperations):
    integer_field_range = BaseDatabaseOperations.integer_field_range


class DatabaseWrapper(base.DatabaseWrapper):
    ops_class = DatabaseOperations
