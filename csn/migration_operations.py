"""Migration operations that fit the database they run on.

`AddIndexOnline` builds an index without blocking writes where the database can: on PostgreSQL it is
`CREATE INDEX CONCURRENTLY` (a plain `CREATE INDEX` holds a lock that blocks every INSERT, UPDATE and
DELETE on the table for the whole build: minutes on a large live table), elsewhere (SQLite, the embedded
default) a plain `AddIndex`. The model state it leaves is `AddIndex`'s, so the autodetector sees no change.

A concurrent build cannot run inside a transaction: a migration using it sets `atomic = False`, and each
index is committed on its own. If a run stops half-way (a deploy cut short, a lock timeout), PostgreSQL may
keep the index it was building, marked invalid; running `migrate` again drops an invalid leftover and
builds it anew, and keeps a valid one that an interrupted run finished. Reversing drops the index
concurrently (`DROP INDEX CONCURRENTLY IF EXISTS`).
"""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db.migrations.operations import AddIndex


def _postgresql(schema_editor) -> bool:
    return schema_editor.connection.vendor == "postgresql"


class AddIndexOnline(AddIndexConcurrently):
    """`AddIndexConcurrently` on PostgreSQL, `AddIndex` on other databases (see the module)."""

    def describe(self):
        return f"Create index {self.index.name} on field(s) {', '.join(self.index.fields)} of model {self.model_name}"

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if not _postgresql(schema_editor):
            return AddIndex.database_forwards(self, app_label, schema_editor, from_state, to_state)
        # sqlmigrate collects the SQL without running it: it shows the whole statement, always.
        if not schema_editor.collect_sql and self._built_already(schema_editor):
            return None
        return super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if not _postgresql(schema_editor):
            return AddIndex.database_backwards(self, app_label, schema_editor, from_state, to_state)
        return super().database_backwards(app_label, schema_editor, from_state, to_state)

    def _built_already(self, schema_editor) -> bool:
        """Whether an interrupted run left this index valid; an invalid leftover is dropped first."""
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(
                "SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                "WHERE c.relname = %s AND pg_catalog.pg_table_is_visible(c.oid)",
                [self.index.name],
            )
            row = cursor.fetchone()
        if row is None:
            return False
        if row[0]:
            return True
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {schema_editor.quote_name(self.index.name)}")
        return False
