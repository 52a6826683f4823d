"""Faults the tests cause on purpose."""

import time

from django.db import connection


def terminate_backends() -> int:
    """Ends every other backend of the test database (daphne's) and waits until they are gone."""
    others = "FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT array_agg(pid) {others}")
        pids = cursor.fetchone()[0] or []
        cursor.execute("SELECT count(pg_terminate_backend(pid)) FROM unnest(%s::int[]) AS pid", [pids])
        ended = cursor.fetchone()[0]
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(%s)", [pids])
            if not cursor.fetchone()[0]:
                break
            time.sleep(0.01)
    return ended
