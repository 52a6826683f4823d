"""Real daphne processes on the test database, for end-to-end tests."""

import contextlib
from urllib.parse import quote

from django.db import connection

from bench.common import daphne_server


def subprocess_database_url() -> str:
    """The test database as a DATABASE_URL another process can open."""
    s = connection.settings_dict
    if s["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{s['NAME']}"
    auth = quote(s["USER"] or "")
    if s.get("PASSWORD"):
        auth += ":" + quote(s["PASSWORD"])
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


@contextlib.contextmanager
def daphne_on_test_db(count: int = 1, env: dict | None = None):
    """`count` daphne processes sharing the test database (and REDIS_URL when set), with `env` added."""
    env = {"DATABASE_URL": subprocess_database_url(), "LOG_LEVEL": "WARNING", **(env or {})}
    with contextlib.ExitStack() as stack:
        yield [stack.enter_context(daphne_server(env)) for _ in range(count)]
