"""Indexes added to live tables are built without blocking writes: CREATE INDEX CONCURRENTLY on
PostgreSQL (a non-atomic migration), a plain CREATE INDEX on SQLite (csn.migration_operations); the
retention indexes (streaming 0008) migrate both ways on both engines."""

import importlib
from io import StringIO

import psycopg
import pytest
from django.core.management import call_command
from django.db import ProgrammingError, connection
from django.db.migrations.loader import MigrationLoader

from csn.migration_operations import AddIndexOnline

MIGRATION = ("streaming", "0008_retention_indexes")
PREVIOUS = ("streaming", "0007_chat_moderation_engagement")
INDEXES = {
    "chat_created_idx": "streaming_chatmessage",
    "live_ended_idx": "streaming_livesession",
    "notification_read_idx": "accounts_notification",
}
POSTGRESQL = connection.vendor == "postgresql"


def _migration():
    return importlib.import_module(f"streaming.migrations.{MIGRATION[1]}").Migration


def _sql(**options) -> str:
    out = StringIO()
    call_command("sqlmigrate", *MIGRATION, stdout=out, **options)
    return out.getvalue()


def _indexes() -> dict[str, bool]:
    """The retention indexes present, and whether each is valid (always, off PostgreSQL)."""
    found = {}
    with connection.cursor() as cursor:
        for name, table in INDEXES.items():
            if name in connection.introspection.get_constraints(cursor, table):
                found[name] = True
        if POSTGRESQL:
            cursor.execute(
                "SELECT c.relname, i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                "WHERE c.relname = ANY(%s)",
                [list(INDEXES)],
            )
            found = dict(cursor.fetchall())
    return found


def test_the_retention_migration_is_online_and_keeps_its_name():
    migration = _migration()
    assert migration.atomic is False  # CONCURRENTLY cannot run in a transaction
    assert [type(op) for op in migration.operations] == [AddIndexOnline] * 3
    assert {op.index.name for op in migration.operations} == set(INDEXES)


@pytest.mark.django_db(transaction=True)  # SQLite's schema editor refuses to start inside a transaction
def test_sqlmigrate_shows_concurrent_builds_on_postgresql_and_plain_ones_elsewhere():
    forwards, backwards = _sql(), _sql(backwards=True)
    assert forwards.count("CREATE INDEX") == 3 and backwards.count("DROP INDEX") == 3
    assert "BEGIN" not in forwards  # not atomic
    if POSTGRESQL:
        assert forwards.count("CREATE INDEX CONCURRENTLY") == 3
        assert backwards.count("DROP INDEX CONCURRENTLY IF EXISTS") == 3
    else:
        assert "CONCURRENTLY" not in forwards + backwards


@pytest.mark.django_db(transaction=True)
def test_the_migration_applies_and_reverses_on_this_engine():
    """The test database was migrated with it; here its operations run backwards, then forwards again
    (as `migrate streaming 0007` then `migrate` would), outside any transaction."""
    loader = MigrationLoader(connection)
    before, after = loader.project_state(PREVIOUS, at_end=True), loader.project_state(MIGRATION, at_end=True)
    operations = _migration().operations
    assert _indexes() == dict.fromkeys(INDEXES, True)
    try:
        with connection.schema_editor(atomic=False) as editor:
            for operation in reversed(operations):
                operation.database_backwards("streaming", editor, after, before)
        assert _indexes() == {}
    finally:
        with connection.schema_editor(atomic=False) as editor:
            for operation in operations:
                operation.database_forwards("streaming", editor, before, after)
    assert _indexes() == dict.fromkeys(INDEXES, True)


@pytest.mark.skipif(not POSTGRESQL, reason="invalid indexes are PostgreSQL's: a concurrent build cut short")
@pytest.mark.django_db(transaction=True)
def test_a_rerun_keeps_a_finished_index_and_rebuilds_an_invalid_leftover():
    loader = MigrationLoader(connection)
    before, after = loader.project_state(PREVIOUS, at_end=True), loader.project_state(MIGRATION, at_end=True)
    chat_index = _migration().operations[0]
    with connection.schema_editor(atomic=False) as editor:  # the index is there and valid: nothing to do
        chat_index.database_forwards("streaming", editor, before, after)
    assert _indexes()["chat_created_idx"] is True
    with connection.cursor() as cursor:  # what a build cut short leaves (only a superuser can fake it)
        try:
            cursor.execute("UPDATE pg_index SET indisvalid = false WHERE indexrelid = 'chat_created_idx'::regclass")
        except ProgrammingError as error:  # only a role without the right is skipped; any other error fails
            if not isinstance(error.__cause__, psycopg.errors.InsufficientPrivilege):
                raise
            pytest.skip("the test database role is not a superuser: it cannot fake a build cut short")
    assert _indexes()["chat_created_idx"] is False
    with connection.schema_editor(atomic=False) as editor:
        chat_index.database_forwards("streaming", editor, before, after)
    assert _indexes()["chat_created_idx"] is True
