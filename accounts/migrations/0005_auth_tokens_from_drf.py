"""The API tokens of DRF's `authtoken` app (one per user, never expiring) become `AuthToken` rows, so
every app signed in before this release stays signed in: the same secret works, now with an expiry
(`ACCOUNTS_TOKEN_TTL_SECONDS` from the migration) and a place in the user's device list. Only the
digest is kept; the old table, which held the secrets in clear, is dropped (the app is no longer
installed). A database that never had the table (a new one) has nothing to copy."""

import hashlib
from datetime import UTC, timedelta

from django.conf import settings
from django.db import migrations
from django.utils import timezone

OLD_TABLE = "authtoken_token"


def copy_drf_tokens(apps, schema_editor):
    connection = schema_editor.connection
    if OLD_TABLE not in connection.introspection.table_names():
        return
    AuthToken = apps.get_model("accounts", "AuthToken")
    expires_at = timezone.now() + timedelta(seconds=settings.ACCOUNTS_TOKEN_TTL_SECONDS)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT key, user_id, created FROM {OLD_TABLE}")  # noqa: S608 - a constant
        rows = cursor.fetchall()
    AuthToken.objects.bulk_create(
        [
            AuthToken(
                user_id=user_id,
                digest=hashlib.sha256(key.encode()).hexdigest(),
                name="Signed in before per-device tokens",
                created_at=created if created.tzinfo else timezone.make_aware(created, UTC),
                expires_at=expires_at,
            )
            for key, user_id, created in rows
        ],
        batch_size=1000,
    )
    schema_editor.execute(f"DROP TABLE {OLD_TABLE}")


class Migration(migrations.Migration):
    dependencies = [("accounts", "0004_auth_tokens")]

    # Irreversible in substance (the secrets are gone); going back leaves every device to sign in again.
    operations = [migrations.RunPython(copy_drf_tokens, migrations.RunPython.noop)]
