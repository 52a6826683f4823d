"""Analytics gateway: intake latency under load (against /healthz in the same run) and delivery rate.

1. Intake: daphne serves the project; `fixed_rate` sends app events at 200 events/s (one event per
   request, the worst case) and in batches of 10; p95 is compared to /healthz at the same request rate.
   Target: p95 under 20 ms.
2. Action to capture (with REDIS_URL: a Redis broker): a Celery worker delivers to the local fake PostHog,
   which notes each event's arrival minus its timestamp (set by the client when it sends). Lone events
   (one every 1.5 s, a quiet spell before each), then `--rate` events/s in batches of 10 per request.
   Target: p95 under 1 s for both, with delivery batches still used under load (events per PostHog
   request).
3. Delivery: one delivery loop (`outbox_deliver`, what a Celery worker runs) drains the outbox through
   the posthog SDK into the local fake PostHog (another process). Target: 2,000 events/s. For reference,
   the SDK's per-event `Client(sync_mode=True).capture` is measured on the same endpoint.

Uses DATABASE_URL (a fresh `<name>_bench` database on that server) and REDIS_URL when set, else a
temporary SQLite file and the embedded default. `python -m bench analytics [--duration=10]
[--rate=200] [--events=10000]`.
"""

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

from bench.common import ROOT, daphne_server, database_name, postgres_admin, print_table, summary
from bench.http import fixed_rate

KEY = "phc_bench_key"
USERS = 40  # the intake is throttled per user (600/min by default): spread the load like real apps


def _options(argv):
    opts = {"duration": 10.0, "rate": 200.0, "events": 10000}
    for arg in argv:
        name, _, value = arg.lstrip("-").partition("=")
        if name in opts:
            opts[name] = type(opts[name])(value)
    return opts


def _database_env(tmp: Path) -> dict:
    url = os.environ.get("DATABASE_URL", "").strip()
    if not url:
        return {"CSN_VAR_DIR": str(tmp), "DATABASE_URL": ""}
    name = f"{database_name(url)}_bench"
    with postgres_admin(url) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {name}")
    return {"DATABASE_URL": url.rsplit("/", 1)[0] + "/" + name}


def _setup_django(env: dict):
    os.environ.update(env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "csn.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _make_users_and_content():
    from django.contrib.auth.hashers import make_password

    from accounts.models import Subscription, User
    from accounts.services import token_issue
    from content.models import Content

    password = make_password("bench-password-not-used")
    User.objects.bulk_create(
        [User(email=f"bench{i}@example.com", display_name=f"Bench {i}", password=password) for i in range(USERS)]
    )
    users = list(User.objects.filter(email__startswith="bench"))
    Subscription.objects.bulk_create([Subscription(user=u, plan="premium" if u.pk % 2 else "free") for u in users])
    tokens = [token_issue(user=u).key for u in users]
    Content.objects.bulk_create(
        [
            Content(title=f"Bench item {i}", slug=f"bench-item-{i}", type="highlight", year=2026, tags=["bench"])
            for i in range(50)
        ]
    )
    return users, tokens, list(Content.objects.values_list("id", flat=True))


def _intake(base: str, tokens: list[str], content_ids: list[int], *, rate: float, duration: float, per_request: int):
    def make(i: int):
        events = [
            {
                "name": "video_pause",
                "properties": {"video_id": content_ids[(i + j) % len(content_ids)], "position_seconds": 12.5},
            }
            for j in range(per_request)
        ]
        headers = {
            "Authorization": f"Token {tokens[i % len(tokens)]}",
            "Content-Type": "application/json",
            "X-App-Version": "3.2.0",
            "X-Device": "bench",
        }
        return "POST", "/api/v1/analytics/events/", headers, json.dumps({"events": events}).encode()

    return fixed_rate(base, make, rate=rate / per_request, duration=duration)


def _start_fake() -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "analytics.tests.fake_posthog", KEY], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    port = int(proc.stdout.readline())
    return proc, f"http://127.0.0.1:{port}"


def _fake_stats(url: str) -> dict:
    return json.loads(urllib.request.urlopen(url + "/_stats", timeout=5).read())


def _fill_outbox(count: int, users, content_ids):
    from django.utils import timezone

    from analytics.models import OutboxEvent

    now = timezone.now()
    OutboxEvent.objects.all().delete()
    rows = [
        OutboxEvent(
            name="video_pause",
            distinct_id=str(users[i % len(users)].pk),
            properties={"video_id": content_ids[i % len(content_ids)], "position_seconds": float(i)},
            context={"app_version": "3.2.0", "device": "bench", "user_agent": "bench"},
            timestamp=now,
            next_attempt_at=now,
        )
        for i in range(count)
    ]
    OutboxEvent.objects.bulk_create(rows, batch_size=1000)


def _delivery(count: int, users, content_ids, fake_url: str) -> dict:
    from django.conf import settings

    from analytics.models import OutboxEvent
    from analytics.services import delivery

    settings.POSTHOG_API_KEY, settings.POSTHOG_HOST = KEY, fake_url
    _fill_outbox(count, users, content_ids)
    before = _fake_stats(fake_url)["accepted_events"]
    started = time.perf_counter()
    result = delivery.outbox_deliver(time_budget=3600)
    elapsed = time.perf_counter() - started
    arrived = _fake_stats(fake_url)["accepted_events"] - before
    assert result.sent == count == arrived, (result, arrived)
    assert not OutboxEvent.objects.exists()
    return {
        "what": "outbox_deliver (batches of 100, enriched)",
        "events": count,
        "seconds": elapsed,
        "events/s": count / elapsed,
    }


def _sdk_per_event(count: int, fake_url: str) -> dict:
    from posthog import Client

    client = Client(KEY, host=fake_url, sync_mode=True)
    started = time.perf_counter()
    for i in range(count):
        client.capture("video_pause", distinct_id=str(i), properties={"video_id": 1}, uuid=str(uuid.uuid4()))
    elapsed = time.perf_counter() - started
    return {
        "what": "SDK Client(sync_mode=True).capture, one per request",
        "events": count,
        "seconds": elapsed,
        "events/s": count / elapsed,
    }


def _events_body(content_ids: list[int], i: int, count: int) -> bytes:
    from datetime import UTC, datetime

    now = datetime.now(UTC).isoformat()  # the action: when the app sends it
    events = [
        {
            "name": "video_pause",
            "properties": {"video_id": content_ids[(i + j) % len(content_ids)], "position_seconds": 1.0},
            "timestamp": now,
        }
        for j in range(count)
    ]
    return json.dumps({"events": events}).encode()


def _latencies(url: str) -> dict:
    return json.loads(urllib.request.urlopen(url + "/_latencies", timeout=5).read())


def _arrived(url: str, before: int, expected: int, timeout: float = 30.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        got = _latencies(url)
        if len(got["latencies_ms"]) - before >= expected or time.monotonic() > deadline:
            return got
        time.sleep(0.2)


def _action_to_capture(env: dict, tokens: list[str], content_ids: list[int], *, rate: float, duration: float):
    """Lone events, then `rate` events/s in batches of 10: latency from the app's send to PostHog."""
    from analytics.models import OutboxEvent

    OutboxEvent.objects.all().delete()  # what the intake rows left: not this part's events
    fake, fake_url = _start_fake()
    worker_env = {**os.environ, **env, "POSTHOG_API_KEY": KEY, "POSTHOG_HOST": fake_url, "LOG_LEVEL": "WARNING"}
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "csn", "worker", "--loglevel=WARNING", "--concurrency=2"],
        cwd=ROOT,
        env=worker_env,
        stdout=subprocess.DEVNULL,
    )
    rows = []
    try:
        with daphne_server({**env, "POSTHOG_API_KEY": KEY, "POSTHOG_HOST": fake_url}) as base:

            def send(i: int, count: int) -> None:
                request = urllib.request.Request(
                    base + "/api/v1/analytics/events/",
                    data=_events_body(content_ids, i, count),
                    headers={"Authorization": f"Token {tokens[i % len(tokens)]}", "Content-Type": "application/json"},
                )
                urllib.request.urlopen(request, timeout=10).read()

            send(0, 1)  # the worker is up once this one arrives
            before = len(_arrived(fake_url, 0, 1, timeout=60)["latencies_ms"])
            time.sleep(1.0)
            lone = 8
            for i in range(lone):
                time.sleep(1.5)  # a quiet spell, longer than the coalescing window
                send(i, 1)
            got = _arrived(fake_url, before, lone)
            latencies = got["latencies_ms"][before:]
            rows.append(
                {"events": "lone, one every 1.5 s", "sent": lone, "arrived": len(latencies), **summary(latencies)}
            )

            before, requests_before = len(got["latencies_ms"]), got["requests"]

            def make(i: int):
                headers = {"Authorization": f"Token {tokens[i % len(tokens)]}", "Content-Type": "application/json"}
                return "POST", "/api/v1/analytics/events/", headers, _events_body(content_ids, i, 10)

            latencies, errors = fixed_rate(base, make, rate=rate / 10, duration=duration)
            sent = (len(latencies) - sum(errors.values())) * 10  # accepted (a 503 overloaded is not)
            got = _arrived(fake_url, before, sent)
            latencies = got["latencies_ms"][before:]
            posts = got["requests"] - requests_before
            rows.append(
                {
                    "events": f"{rate:.0f} events/s, 10 a request",
                    "sent": sent,
                    "arrived": len(latencies),
                    **summary(latencies),
                    "events per PostHog request": len(latencies) / max(1, posts),
                }
            )
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(20)
        except subprocess.TimeoutExpired:
            worker.kill()
        fake.terminate()
        fake.wait(10)
    return rows


def main(argv: list[str]) -> None:
    opts = _options(argv)
    with tempfile.TemporaryDirectory(prefix="csn-bench-analytics-") as tmp:
        env = _database_env(Path(tmp))
        env["LOG_LEVEL"] = "WARNING"
        _setup_django(env)
        from django.conf import settings

        mode = f"{settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]}, {'Redis broker' if settings.REDIS_URL else 'no broker (embedded)'}"
        print(f"mode: {mode}; {opts['rate']:.0f} events/s for {opts['duration']:.0f} s per row")
        users, tokens, content_ids = _make_users_and_content()

        rows = []
        with daphne_server(env) as base:
            quarter = opts["rate"] / 4
            for label, per_request, rate in (
                (f"GET /healthz (baseline, {opts['rate']:.0f} req/s)", None, opts["rate"]),
                (f"POST events, 1 per request ({opts['rate']:.0f} events/s)", 1, opts["rate"]),
                (f"POST events, 10 per request ({opts['rate']:.0f} events/s)", 10, opts["rate"]),
                (f"POST events, 1 per request ({quarter:.0f} events/s)", 1, quarter),
            ):
                if per_request is None:
                    latencies, errors = fixed_rate(
                        base, lambda i: ("GET", "/healthz", {}, b""), rate=rate, duration=opts["duration"]
                    )
                else:
                    latencies, errors = _intake(
                        base, tokens, content_ids, rate=rate, duration=opts["duration"], per_request=per_request
                    )
                rows.append(
                    {"request": label, "requests": len(latencies), **summary(latencies), "errors": errors or ""}
                )
        baseline = rows[0]["p95"]
        for row in rows:
            row["p95/healthz"] = row["p95"] / baseline if baseline else float("nan")
        print("\nIntake latency (ms, from each request's scheduled start)")
        print_table(rows, ["request", "requests", "p50", "p95", "p99", "p95/healthz", "errors"])

        if settings.REDIS_URL:
            capture = _action_to_capture(env, tokens, content_ids, rate=opts["rate"], duration=opts["duration"])
            print("\nAction to capture (ms: the app's send to the fake PostHog's receipt; a Celery worker delivers)")
            print_table(capture, ["events", "sent", "arrived", "p50", "p95", "p99", "events per PostHog request"])
            met = all(row["p95"] < 1000 and row["arrived"] == row["sent"] for row in capture)
            print(f"target p95 < 1 s, lone and under load: {'met' if met else 'MISSED'}")
        else:
            print("\nAction to capture: needs REDIS_URL (a broker and a worker); skipped")

        fake, fake_url = _start_fake()
        try:
            delivery = [
                _delivery(opts["events"], users, content_ids, fake_url),
                _sdk_per_event(min(2000, opts["events"]), fake_url),
            ]
        finally:
            fake.terminate()
            fake.wait(10)
        print("\nDelivery to the local fake PostHog (one loop, one process)")
        print_table(delivery, ["what", "events", "seconds", "events/s"])
        print(f"\ntargets: intake p95 < 20 ms; delivery >= 2000 events/s (measured {delivery[0]['events/s']:.0f})")

        if env.get("DATABASE_URL"):
            from django.db import connections

            connections.close_all()
            _drop_bench_database(env["DATABASE_URL"])


def _drop_bench_database(url: str) -> None:
    with postgres_admin(url) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {database_name(url)} WITH (FORCE)")
