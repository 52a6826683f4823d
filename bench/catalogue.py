"""Catalogue API under load: list, filtered list, detail and schedule, against /healthz in the same run.

Seeds a throwaway database (demo data plus a bulk catalogue of published items), starts daphne, and
sends open-loop fixed-rate load to each endpoint. Prints p50/p95/p99 and each p50 as a ratio to the
/healthz baseline. `python -m bench catalogue [--rate=N] [--duration=S] [--items=N]`.
"""

import json
import os
import subprocess
import sys
import tempfile
import urllib.request

from bench.common import ROOT, daphne_server, print_table, summary
from bench.http import fixed_rate

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


def _arg(argv, name, default):
    for a in argv:
        if a.startswith(f"--{name}="):
            return type(default)(a.split("=", 1)[1])
    return default


def main(argv: list[str]) -> None:
    rate, duration, items = _arg(argv, "rate", 60.0), _arg(argv, "duration", 5.0), _arg(argv, "items", 2000)
    with tempfile.TemporaryDirectory() as var:
        env = {**os.environ, "CSN_VAR_DIR": var, "DJANGO_SETTINGS_MODULE": "csn.settings"}
        env.pop("REDIS_URL", None)  # the catalogue reads only the database; keep the run self-contained
        # All the load comes from one client address: lift the per-address default (600/min) for the run.
        env.setdefault("CSN_ANON_READ_THROTTLE", "1000000/min")
        py = sys.executable
        subprocess.run([py, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
        subprocess.run([py, "manage.py", "seed_demo"], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
        total = subprocess.run(
            [py, "-c", BULK, str(items)], cwd=ROOT, env=env, check=True, capture_output=True, text=True
        ).stdout.strip()
        database = "PostgreSQL" if env.get("DATABASE_URL", "").startswith("postgres") else "SQLite"
        print(f"{database}, {total} content items, {rate:.0f} req/s for {duration:.0f} s per endpoint")
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
        with daphne_server(env) as base:
            with urllib.request.urlopen(base + "/api/v1/content/?page_size=1") as response:
                first_id = json.load(response)["results"][0]["id"]
            for label, path in endpoints:
                path = path.format(id=first_id)
                request = ("GET", path, {"Accept": "application/json"}, b"")
                latencies, errors = fixed_rate(base, lambda i, r=request: r, rate=rate, duration=duration)
                rows.append({"endpoint": label, **summary(latencies), "errors": sum(errors.values())})
        baseline = rows[0]["p50"] or 1.0
        for row in rows:
            row["p50 / healthz"] = row["p50"] / baseline
        print_table(rows, ["endpoint", "p50", "p95", "p99", "p50 / healthz", "errors"])
        print("latencies in ms, measured from each request's scheduled start (open loop)")
