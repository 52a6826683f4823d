"""Search indexes on PostgreSQL (content.api.filters.CatalogueSearchFilter): pg_trgm and GIN trigram
indexes on the names searched, a GIN full-text index on content's search document. Other databases
(SQLite, the embedded default) search without them: nothing to do there."""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations

# The expression must stay the one CONTENT_SEARCH_DOCUMENT compiles to, or the planner cannot use it.
CONTENT_DOCUMENT = "to_tsvector('english'::regconfig, COALESCE(title, '') || ' ' || COALESCE(description, ''))"
INDEXES = {
    "content_search_document_idx": f"content_content USING gin (({CONTENT_DOCUMENT}))",
    "team_name_trgm_idx": "content_team USING gin (name gin_trgm_ops)",
    "player_name_trgm_idx": "content_player USING gin (name gin_trgm_ops)",
    "game_venue_trgm_idx": "content_game USING gin (venue gin_trgm_ops)",
}


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for name, definition in INDEXES.items():
            schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {definition}")


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for name in INDEXES:
            schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("content", "0003_editorial_groups")]

    operations = [
        TrigramExtension(),
        migrations.RunPython(create_indexes, drop_indexes, elidable=False),
    ]
