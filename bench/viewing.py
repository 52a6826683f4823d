"""Viewer state under load: PUT progress and GET continue-watching against /healthz in the same run.

Needs PostgreSQL: `DATABASE_URL` names the server; the data goes into a separate database
(`csn_bench_viewing` unless `--database=`), created and migrated when missing. 100,000 users with API tokens
and 1,000,000 progress rows are generated in SQL (`INSERT ... SELECT generate_series`), kept between
runs (`--fresh` rebuilds). daphne serves it (bin/serve); open-loop fixed-rate load of each endpoint
with random users; p50/p95/p99 and the p95 ratio to /healthz.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/csn python -m bench viewing [--users=N] [--rows=N]
        [--rate=200] [--duration=20] [--database=csn_bench_viewing] [--fresh] [--write-docs]
"""

import argparse
import os
import random
import re
import subprocess
import sys
import time
from contextlib import ExitStack
from datetime import UTC, datetime
from urllib.parse import urlsplit, urlunsplit

from bench.common import (
    ROOT,
    cpu_seconds,
    daphne_server,
    database_name,
    errors_text,
    postgres_admin,
    print_table,
    server_pid,
    split_load,
    summary,
)

TARGET_P95_MS = 25.0
NOTES = """What the time goes to, and what was done (server CPU per request is the figure that does not
depend on what else runs on the machine; the load generator, PostgreSQL and Redis share the same 2 cores):

- Persistent connections are not reused across ASGI worker threads, so settings use psycopg's
  connection pool (`OPTIONS["pool"]`, up to 20 per process, `CSN_DB_POOL*`).
- Django's stock ASGI handler entered a worker thread four or more times a request (request_started,
  the middleware chain, the view, response.close) and made a new thread for each request: most of the
  2.6 ms of CPU a bare `/healthz` cost. `csn.asgi_http.SyncASGIHandler` reads the body on the event
  loop and runs the whole request in one call on a fixed pool of threads (`CSN_HTTP_THREADS`), as
  WSGI does: `/healthz` now costs about 1 ms.
- The ORM compiling querysets anew on every request was the largest piece left. The token lookup is
  one constant statement (`accounts.selectors.token_with_user`); the progress upsert's visibility
  subquery is compiled once per kind of user with the database's clock (`Now()`); live events are
  stored by a constant INSERT instead of `bulk_create`. Together about 1 ms of CPU off a progress write.
- PUT progress is one upsert that also checks availability (its row source is the visibility query),
  then the live event (seq upsert + insert) in the same transaction. A plain position update (no
  analytics event in the transaction) commits with `synchronous_commit = off`: it is superseded
  within seconds anyway.
- Continue Watching is one query on the partial index `progress_continue_idx` (below 0.5 ms in
  PostgreSQL at this size, see the plan printed by the benchmark), loading only the card columns and
  rendering without DRF's field machinery (a test keeps the output equal to the serializer).
- The default is one daphne process per core (`--servers=2`), the production shape behind a load
  balancer; `--servers=1` shows what one process does alone."""
DOC = ROOT / "docs" / "performance.md"
SECTION = "## Viewer state"


def _parse(argv):
    parser = argparse.ArgumentParser(prog="bench viewing")
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--rows", type=int, default=1_000_000, help="progress rows (spread evenly over users)")
    parser.add_argument("--contents", type=int, default=5_000)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--duration", type=float, default=20.0, help="seconds of measured load per endpoint")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds of unmeasured load before each")
    parser.add_argument(
        "--new-plays",
        type=float,
        default=0.1,
        help="share of progress writes that start a play (a new row, `video_play`); the rest are heartbeats "
        "of plays in progress (an existing row moves on)",
    )
    parser.add_argument(
        "--servers", type=int, default=2, help="daphne processes, the rate split evenly (one per core, as deployed)"
    )
    parser.add_argument("--database", default="csn_bench_viewing")
    parser.add_argument("--fresh", action="store_true", help="drop and rebuild the bench database")
    parser.add_argument("--write-docs", action="store_true", help=f"write the figures to {DOC.name}")
    return parser.parse_args(argv)


def _bench_url(database: str) -> str:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        raise SystemExit("bench viewing needs DATABASE_URL pointing at PostgreSQL (the data goes into --database)")
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + database))


def _connect(url: str, autocommit: bool = True):
    import psycopg

    parts = urlsplit(url)
    return psycopg.connect(
        host=parts.hostname,
        port=parts.port or 5432,
        user=parts.username,
        password=parts.password,
        dbname=parts.path.lstrip("/"),
        autocommit=autocommit,
    )


def _ensure_database(url: str, fresh: bool) -> None:
    name = database_name(url)
    with postgres_admin(url) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists and fresh:
            conn.execute(f"DROP DATABASE {name} WITH (FORCE)")
            exists = None
        if not exists:
            conn.execute(f"CREATE DATABASE {name}")
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "csn.settings"}
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)


# Fast bulk data: every row comes from generate_series in the database. Columns not named here take
# their model default, so new catalogue fields (with defaults) do not break the benchmark.
_COLUMNS_SCRIPT = """
import json, django
django.setup()
from content.models import Content
out = {}
for field in Content._meta.concrete_fields:
    if field.primary_key:
        continue
    value = field.get_default()  # "" for text fields without a default, None when there is none
    if isinstance(value, (list, dict)):
        out[field.column] = ["sql", "'" + json.dumps(value).replace("'", "''") + "'::jsonb"]
    elif value is not None:
        out[field.column] = ["param", value]
    elif field.null:
        out[field.column] = ["sql", "NULL"]
    else:
        out[field.column] = ["missing", None]
print(json.dumps(out))
"""


def _content_columns(url: str) -> dict:
    import json

    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "csn.settings"}
    out = subprocess.run(
        [sys.executable, "-c", _COLUMNS_SCRIPT], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    )
    return json.loads(out.stdout)


def _generate(url: str, users: int, rows: int, contents: int) -> None:
    per_user = max(1, rows // users)
    started = time.monotonic()
    columns = _content_columns(url)
    known = {
        "title": "'Bench item ' || n",
        "slug": "'bench-' || n",
        "type": "'highlight'",
        "runtime_seconds": "1800",
        "state": "'published'",
        "published_at": "now() - make_interval(mins => n)",
        "created_at": "now()",
        "updated_at": "now()",
        "tags": "'[]'::jsonb",
    }
    names, values, params = [], [], []
    for column, (kind, default) in columns.items():
        names.append(column)
        if column in known:
            values.append(known[column])
        elif kind == "param":
            values.append("%s")
            params.append(default)
        elif kind == "sql":
            values.append(default)
        else:
            raise SystemExit(f"content column {column} has no default; teach bench/viewing.py a value for it")
    with _connect(url) as conn:
        conn.execute(
            "TRUNCATE streaming_watchprogress, streaming_mylistitem, streaming_playlistitem, streaming_playlist,"
            " accounts_authtoken, content_content_teams, content_content_players, content_content,"
            " accounts_user RESTART IDENTITY CASCADE"
        )
        conn.execute(
            f"INSERT INTO content_content ({', '.join(names)}) "  # names come from the model
            f"SELECT {', '.join(values)} FROM generate_series(1, %s) AS n",
            [*params, contents],
        )
        # Users with a token each: `bench` + the zero-padded user number is the 40-character key.
        conn.execute(
            "INSERT INTO accounts_user (id, password, is_superuser, email, display_name, avatar_url, first_name,"
            " last_name, is_staff, is_active, date_joined)"
            " SELECT n, '!', false, 'bench' || n || '@example.com', 'Viewer ' || n, '', '', '', false, true, now()"
            " FROM generate_series(1, %s) AS n",
            [users],
        )
        conn.execute(
            # Only the secret's SHA-256 is stored (accounts.selectors.token_digest).
            # Used just now: no `last_used_at` write on each user's first request of the run.
            "INSERT INTO accounts_authtoken"
            " (user_id, digest, name, created_at, last_used_at, expires_at, revoked_reason)"
            " SELECT n, encode(sha256(convert_to('bench' || lpad(n::text, 35, '0'), 'UTF8')), 'hex'), 'bench',"
            " now(), now(), now() + interval '30 days', '' FROM generate_series(1, %s) AS n",
            [users],
        )
        conn.execute("SELECT setval(pg_get_serial_sequence('accounts_user', 'id'), %s)", [users])
        # `per_user` rows per user over distinct content, a fifth of them finished, spread over 30 days.
        conn.execute(
            """
            INSERT INTO streaming_watchprogress (user_id, content_id, position_seconds, duration_seconds,
                completion_percentage, completed, recorded_at, completed_at, first_watched_at, last_watched_at)
            SELECT u, c.id, pct * 18, 1800, pct, pct >= 90, t, CASE WHEN pct >= 90 THEN t END, t, t
            FROM generate_series(1, %(users)s) AS u
            CROSS JOIN generate_series(0, %(per_user)s - 1) AS k
            CROSS JOIN LATERAL (SELECT ((u * 7919 + k * 104729) %% 100)::float AS pct,
                                       now() - make_interval(secs => ((u * 31 + k * 977) %% 2592000)) AS t) AS v
            JOIN content_content c ON c.slug = 'bench-' || (((u * 37 + k) %% %(contents)s) + 1)
            """,
            {"users": users, "per_user": per_user, "contents": contents},
        )
        conn.execute("VACUUM ANALYZE")
    print(f"generated {users} users, {users * per_user} progress rows in {time.monotonic() - started:.0f} s")


def _counts(url: str) -> tuple[int, int]:
    with _connect(url) as conn:
        users = conn.execute("SELECT count(*) FROM accounts_authtoken").fetchone()[0]
        rows = conn.execute("SELECT count(*) FROM streaming_watchprogress").fetchone()[0]
    return users, rows


def _content_ids(url: str) -> list[int]:
    with _connect(url) as conn:
        return [row[0] for row in conn.execute("SELECT id FROM content_content WHERE slug LIKE 'bench-%%'")]


def _content_by_number(url: str) -> dict[int, int]:
    """Content id by its bench number (`bench-<n>`), to find the rows `_generate` made."""
    with _connect(url) as conn:
        rows = conn.execute("SELECT slug, id FROM content_content WHERE slug LIKE 'bench-%%'")
        return {int(slug.removeprefix("bench-")): pk for slug, pk in rows}


def _tokens_in_use(url: str) -> None:
    """Every token used a moment ago, as a playing device's is: a run's first request of each user does
    not also record `last_used_at` (at most once per ACCOUNTS_TOKEN_TOUCH_SECONDS in real use)."""
    with _connect(url) as conn:
        conn.execute("UPDATE accounts_authtoken SET last_used_at = now()")


def _plan(url: str, user_id: int) -> str:
    """EXPLAIN ANALYZE of the Continue Watching query as Django sends it, for the report."""
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "csn.settings"}
    script = (
        "import django; django.setup()\n"
        "from accounts.models import User\n"
        "from streaming.viewing.selectors import continue_watching\n"
        f"print(continue_watching(user=User.objects.get(pk={user_id})).explain(analyze=True))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True)
    return out.stdout.strip() or out.stderr.strip()


def _token(user: int) -> str:
    return "bench" + str(user).zfill(35)


def _write_docs(text: str) -> None:
    DOC.parent.mkdir(exist_ok=True)
    current = DOC.read_text() if DOC.exists() else "# Performance\n"
    pattern = re.compile(rf"^{re.escape(SECTION)}\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(current):
        current = pattern.sub(lambda _: text.rstrip() + "\n\n", current)
    else:
        current = current.rstrip() + "\n\n" + text.rstrip() + "\n"
    DOC.write_text(current)
    print(f"wrote {DOC.relative_to(ROOT)}")


def main(argv: list[str]) -> int:
    args = _parse(argv)
    url = _bench_url(args.database)
    _ensure_database(url, args.fresh)
    per_user = max(1, args.rows // args.users)
    users, rows = _counts(url)
    if users != args.users or rows < args.users * per_user:  # PUTs of earlier runs add rows
        _generate(url, args.users, args.rows, args.contents)
    users, rows = _counts(url)
    print(f"PostgreSQL {args.database}: {users} users, {rows} progress rows, {len(_content_ids(url))} content items")

    content_ids = _content_ids(url)
    by_number = _content_by_number(url)
    _tokens_in_use(url)
    rng = random.Random(4)

    def healthz(i):
        return ("GET", "/healthz", {}, b"")

    def put_progress(i):
        user = rng.randint(1, users)
        if rng.random() < args.new_plays:
            content = rng.choice(content_ids)  # almost surely a new row: a play starts
        else:  # one of the user's rows (as `_generate` numbers them): a heartbeat of a play in progress
            content = by_number[(user * 37 + rng.randrange(per_user)) % len(by_number) + 1]
        position = rng.uniform(0, 1800)
        now = datetime.now(UTC).isoformat()
        body = f'{{"position_seconds": {position:.1f}, "duration_seconds": 1800, "recorded_at": "{now}"}}'.encode()
        headers = {"Authorization": f"Token {_token(user)}", "Content-Type": "application/json"}
        return ("PUT", f"/api/v1/progress/{content}/", headers, body)

    def continue_watching(i):
        user = rng.randint(1, users)
        return ("GET", "/api/v1/continue-watching/", {"Authorization": f"Token {_token(user)}"}, b"")

    endpoints = [
        ("GET /healthz (baseline)", healthz),
        ("PUT /api/v1/progress/{id}/", put_progress),
        ("GET /api/v1/continue-watching/", continue_watching),
    ]
    env = {"DATABASE_URL": url}
    results = []
    with ExitStack() as stack:
        bases = [stack.enter_context(daphne_server(env)) for _ in range(args.servers)]
        pids = [server_pid(base) for base in bases]
        for label, make in endpoints:
            split_load(bases, make, args.rate, args.warmup)
            cpu_before = sum(cpu_seconds(pid) for pid in pids)
            latencies, errors = split_load(bases, make, args.rate, args.duration)
            cpu_ms = (sum(cpu_seconds(pid) for pid in pids) - cpu_before) * 1000 / max(1, len(latencies))
            results.append(
                {
                    "endpoint": label,
                    **summary(latencies),
                    "server CPU ms/req": cpu_ms,
                    "requests": len(latencies),
                    "errors": errors,
                }
            )
    load = os.getloadavg()[0]
    baseline = results[0]["p95"] or 1.0
    for row in results:
        row["p95 / healthz"] = row["p95"] / baseline
        row["errors"] = errors_text(row["errors"])
    columns = ["endpoint", "p50", "p95", "p99", "p95 / healthz", "server CPU ms/req", "requests", "errors"]
    print(
        f"{args.rate:.0f} req/s for {args.duration:.0f} s per endpoint (after {args.warmup:.0f} s warm-up), "
        f"{args.servers} daphne process(es); progress writes: {args.new_plays:.0%} start a play, the rest are "
        "heartbeats of plays in progress"
    )
    print(f"machine load average at the end: {load:.1f} on {os.cpu_count()} CPUs")
    print_table(results, columns)
    verdict = all(r["p95"] < TARGET_P95_MS for r in results[1:])
    print(f"target p95 < {TARGET_P95_MS:.0f} ms: {'met' if verdict else 'MISSED'}")
    plan = _plan(url, rng.randint(1, users))
    print("Continue Watching plan:\n" + plan)

    if args.write_docs:
        lines = [
            SECTION,
            "",
            f"`python -m bench viewing` ({datetime.now(UTC):%Y-%m-%d}): PostgreSQL with {users:,} users and "
            f"{rows:,} watch-progress rows, {args.servers} daphne process(es) (bin/serve) on the 2-core machine, open-loop "
            f"load at {args.rate:.0f} requests/s for {args.duration:.0f} s per endpoint, random users with "
            "token auth; latency from each request's scheduled start, in ms.",
            "",
            "| endpoint | p50 | p95 | p99 | p95 / healthz | server CPU ms/req | errors |",
            "| --- | --- | --- | --- | --- | --- | --- |",
        ]
        lines += [
            f"| {r['endpoint']} | {r['p50']:.1f} | {r['p95']:.1f} | {r['p99']:.1f} | {r['p95 / healthz']:.2f} "
            f"| {r['server CPU ms/req']:.2f} | {r['errors']} |"
            for r in results
        ]
        lines += ["", f"Machine load average at the end of the run: {load:.1f} on {os.cpu_count()} CPUs."]
        lines += ["", f"Target: p95 < {TARGET_P95_MS:.0f} ms for both: {'met' if verdict else 'missed'}."]
        lines += ["", NOTES]
        _write_docs("\n".join(lines) + "\n")
    return 0
