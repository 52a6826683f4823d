"""Catalogue API under load: list, filtered list, search, detail, schedule and teams, against /healthz in
the same run, cached (the default) or not.

Seeds a throwaway database (demo data plus a bulk catalogue of published items; on PostgreSQL a separate
database, `<DATABASE_URL's name>_bench_catalogue`, rebuilt each run), starts `--servers` daphne processes (one per core, the
load split evenly, as a load balancer would), and sends open-loop fixed-rate load to each endpoint. Prints
p50/p95/p99, the server CPU per request and its ratio to /healthz's, and the issue's targets.
`--uncached` turns the server cache off (`CSN_CATALOGUE_CACHE_SECONDS=0`): every read computed. With
`REDIS_URL` the processes share the cache (as deployed); without it each has its own.

    DATABASE_URL=postgres://... REDIS_URL=redis://... python -m bench catalogue [--rate=300] [--duration=5]
        [--items=2000] [--servers=2] [--uncached]
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import urllib.request
from contextlib import ExitStack
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

BULK = """
import django, os, sys
django.setup()
from django.utils import timezone
from content.models import Content, Team
target = int(sys.argv[1])
missing = target - Content.objects.filter(slug__startswith="bench-").count()
teams = list(Team.objects.all())
now = timezone.now()
items = Content.objects.bulk_create([
    Content(title=f"Bench item {i}", slug=f"bench-{now.timestamp():.0f}-{i}", type="highlight", year=2020 + i % 6,
            tags=[teams[i % len(teams)].sport, f"tag{i % 50}"], video_url="https://cdn.example.com/b.m3u8",
            is_premium=i % 4 == 0, state="published", published_at=now)
    for i in range(max(0, missing))
], batch_size=500)
Through = Content.teams.through
Through.objects.bulk_create([Through(content_id=c.pk, team_id=teams[k % len(teams)].pk)
                             for k, c in enumerate(items) for _ in [0]], batch_size=1000)
print(Content.objects.count())
"""


TARGET_P95_MS = 50.0
TARGET_CACHED_CPU_RATIO = 1.5


def _parse(argv):
    parser = argparse.ArgumentParser(prog="bench catalogue")
    parser.add_argument("--rate", type=float, default=300.0, help="requests/s per endpoint, split over the servers")
    parser.add_argument("--duration", type=float, default=5.0, help="seconds of measured load per endpoint")
    parser.add_argument("--warmup", type=float, default=1.0, help="seconds of unmeasured load before each")
    parser.add_argument("--items", type=int, default=2000)
    parser.add_argument("--servers", type=int, default=2)
    parser.add_argument("--uncached", action="store_true", help="server cache off: every read computed")
    return parser.parse_args(argv)


def _database(env: dict) -> str:
    """A fresh bench database on the PostgreSQL server DATABASE_URL names (its URL), or "" for SQLite."""
    url = env.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        env.pop("DATABASE_URL", None)
        return ""
    # Named after the caller's database: two trees benching at once do not drop each other's.
    url = urlunsplit(urlsplit(url)._replace(path=f"/{database_name(url)}_bench_catalogue"))
    name = database_name(url)
    with postgres_admin(url) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name}")
    return url


def main(argv: list[str]) -> None:
    args = _parse(argv)
    with tempfile.TemporaryDirectory() as var:
        env = {**os.environ, "CSN_VAR_DIR": var, "DJANGO_SETTINGS_MODULE": "csn.settings"}
        url = _database(env)
        if url:
            env["DATABASE_URL"] = url
        if args.uncached:
            env["CSN_CATALOGUE_CACHE_SECONDS"] = "0"
        # All the load comes from one client address: lift the per-address default (600/min) for the run.
        env.setdefault("CSN_ANON_READ_THROTTLE", "100000000/min")
        py = sys.executable
        subprocess.run([py, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
        subprocess.run([py, "manage.py", "seed_demo"], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
        total = subprocess.run(
            [py, "-c", BULK, str(args.items)], cwd=ROOT, env=env, check=True, capture_output=True, text=True
        ).stdout.strip()
        if url:
            subprocess.run([py, "manage.py", "dbshell", "--", "-c", "VACUUM ANALYZE"], cwd=ROOT, env=env, check=True)
        database = "PostgreSQL" if url else "SQLite"
        cache = "shared cache (Redis)" if env.get("REDIS_URL") else "a cache per process (local memory)"
        print(
            f"{database}, {total} content items, {args.servers} daphne process(es), "
            f"{'UNCACHED' if args.uncached else cache}; {args.rate:.0f} req/s for {args.duration:.0f} s per endpoint"
        )
        endpoints = [
            ("/healthz (baseline)", "/healthz"),
            ("content list, 20", "/api/v1/content/"),
            ("content list, 100", "/api/v1/content/?page_size=100"),
            ("content ?tag=&type=", "/api/v1/content/?tag=basketball&type=highlight"),
            ("content search", "/api/v1/content/?search=roundup"),
            ("content detail", "/api/v1/content/{id}/"),
            ("games ?status=", "/api/v1/games/?status=scheduled"),
            ("teams", "/api/v1/teams/"),
        ]
        rows = []
        with ExitStack() as stack:
            served = {"DATABASE_URL": None, **env}  # SQLite when the bench database is not PostgreSQL
            bases = [stack.enter_context(daphne_server(served)) for _ in range(args.servers)]
            pids = [server_pid(base) for base in bases]
            with urllib.request.urlopen(bases[0] + "/api/v1/content/?page_size=1") as response:
                first_id = json.load(response)["results"][0]["id"]
            for label, path in endpoints:
                request = ("GET", path.format(id=first_id), {"Accept": "application/json"}, b"")
                split_load(bases, lambda i, r=request: r, args.rate, args.warmup)
                before = sum(cpu_seconds(pid) for pid in pids)
                latencies, errors = split_load(bases, lambda i, r=request: r, args.rate, args.duration)
                cpu_ms = (sum(cpu_seconds(pid) for pid in pids) - before) * 1000 / max(1, len(latencies))
                rows.append(
                    {"endpoint": label, **summary(latencies), "CPU ms/req": cpu_ms, "errors": errors_text(errors)}
                )
        baseline_cpu = rows[0]["CPU ms/req"] or 1.0
        for row in rows:
            row["CPU / healthz"] = row["CPU ms/req"] / baseline_cpu
        print(f"machine load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
        print_table(rows, ["endpoint", "p50", "p95", "p99", "CPU ms/req", "CPU / healthz", "errors"])
        print("latencies in ms, measured from each request's scheduled start (open loop)")
        slow = [r["endpoint"] for r in rows[1:] if r["endpoint"] != "content search" and r["p95"] >= TARGET_P95_MS]
        print(f"target p95 < {TARGET_P95_MS:.0f} ms (lists, filtered, detail, schedule, teams): ", end="")
        print("met" if not slow else f"MISSED ({', '.join(slow)})")
        if not args.uncached:
            ratio = rows[1]["CPU / healthz"]
            verdict = "met" if ratio <= TARGET_CACHED_CPU_RATIO else "MISSED"
            print(f"target cached list CPU <= {TARGET_CACHED_CPU_RATIO}x /healthz: {verdict} ({ratio:.2f}x)")
