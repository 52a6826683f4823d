"""Capacity: what one web process holds, what each unit of live work costs, and what one game with
100,000 viewers across processes would need (a model from those measured costs, docs/performance.md).

    python -m bench capacity [--quick] [--sockets=4000]     (Redis hub when REDIS_URL is set)

1. Idle sockets: one daphne process; K websockets opened, each following its game topic, then idle.
   Resident memory before and after gives memory per socket; CPU while idle is the keep-alive cost.
2. Fan-out: events published to that game (another process, through Redis) at a steady rate; the server's
   CPU seconds per socket write (a delivery).
3. Viewer count: the COUNT behind each `viewers` push, on M open viewing sessions of one game.
4. The model: 100,000 viewers of one game over P processes of K sockets each.
"""

import asyncio
import json
import multiprocessing
import os
import subprocess
import sys
import time

from bench.common import ROOT, open_followers, print_table, script_json
from bench.live import CLIENT_PROCESSES, _cpu_seconds, csn_server, throwaway_postgres

PUBLISHER = """
import django, sys, time
django.setup()
from django.db import transaction
from csn.realtime.publish import publish
game, rate, duration = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
begin = time.monotonic()
for n in range(int(rate * duration)):
    delay = begin + n / rate - time.monotonic()
    if delay > 0:
        time.sleep(delay)
    with transaction.atomic():
        publish(topic=f"game:{game}", name="game.event", data={"n": n, "sent_at": time.time()})
"""

VIEWER_COUNT = """
import django, sys, time, json
django.setup()
from django.utils import timezone
from content.models import Game
from streaming.live.models import LiveSession
from streaming.live.selectors import viewer_count
from accounts.services import user_create
game, sessions = Game.objects.get(pk=int(sys.argv[1])), int(sys.argv[2])
user = user_create(email=f"capacity-{time.time()}@example.com", password="capacity-password-1", display_name="C")
now = timezone.now()
LiveSession.objects.bulk_create(
    [LiveSession(game=game, user=user, last_heartbeat_at=now) for _ in range(sessions)], batch_size=5000
)
viewer_count(game_id=game.pk)
started = time.perf_counter()
for _ in range(20):
    viewer_count(game_id=game.pk)
print(json.dumps({"ms": (time.perf_counter() - started) / 20 * 1000}))
"""


def _rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))


def _holders_main(url, topic, count, ready, release, results) -> None:
    asyncio.run(_holders(url, topic, count, ready, release, results))


async def _holders(url, topic, count, ready, release, results):
    received = 0
    sockets = [ws for ws, _ in await open_followers(url, [topic], count, batch=100, ping_interval=None)]
    ready.set()

    async def read(ws):
        nonlocal received
        try:
            async for raw in ws:
                frame = json.loads(raw)
                received += len(frame["events"]) if frame["type"] == "batch" else 1
        except Exception:
            return

    readers = [asyncio.ensure_future(read(ws)) for ws in sockets]
    await asyncio.get_running_loop().run_in_executor(None, release.wait)
    for task in readers:
        task.cancel()
    for ws in sockets:
        await ws.close()
    results.put(received)


def main(argv: list[str]) -> None:
    quick = "--quick" in argv
    sockets = next((int(a.split("=", 1)[1]) for a in argv if a.startswith("--sockets=")), 1000 if quick else 4000)
    redis_url = os.environ.get("REDIS_URL", "")
    if not redis_url:
        print("REDIS_URL is not set: the capacity run needs the Redis hub (the publisher is another process).")
        return
    rate, duration = 20.0, (3.0 if quick else 10.0)
    with (
        throwaway_postgres() as database_url,
        csn_server({"REDIS_URL": redis_url}, database_url) as (urls, setup, pids),
    ):
        env = {
            **os.environ,
            "DATABASE_URL": os.environ.get("BENCH_DATABASE_URL", database_url),
            "REDIS_URL": redis_url,
            "DJANGO_SETTINGS_MODULE": "csn.settings",
            "LOG_LEVEL": "WARNING",
        }
        (pid,) = pids
        time.sleep(1)
        rss_before = _rss_kib(pid)
        ctx = multiprocessing.get_context("spawn")
        ready = [ctx.Event() for _ in range(CLIENT_PROCESSES)]
        release, results = ctx.Event(), ctx.Queue()
        share = [
            sockets // CLIENT_PROCESSES + (1 if i < sockets % CLIENT_PROCESSES else 0) for i in range(CLIENT_PROCESSES)
        ]
        topic = f"game:{setup['game']}"
        procs = [
            ctx.Process(target=_holders_main, args=(urls[0], topic, share[i], ready[i], release, results))
            for i in range(CLIENT_PROCESSES)
        ]
        for proc in procs:
            proc.start()
        for event in ready:
            event.wait(600)
        time.sleep(2)
        rss_after = _rss_kib(pid)
        cpu_idle_start = _cpu_seconds(pid)
        time.sleep(5)
        idle_cpu = (_cpu_seconds(pid) - cpu_idle_start) / 5
        cpu_start = _cpu_seconds(pid)
        subprocess.run(
            [sys.executable, "-c", PUBLISHER, str(setup["game"]), str(rate), str(duration)],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
        )
        time.sleep(1)
        fanout_cpu = _cpu_seconds(pid) - cpu_start - idle_cpu * (duration + 1)
        release.set()
        received = sum(results.get(timeout=120) for _ in procs)
        for proc in procs:
            proc.join(30)
        count_ms = script_json(VIEWER_COUNT, [setup["game"], 20000 if quick else 100000], env)["ms"]
    deliveries = int(rate * duration) * sockets
    per_socket_kib = (rss_after - rss_before) / sockets
    per_delivery_us = fanout_cpu / max(1, deliveries) * 1e6
    measured = {
        "sockets": sockets,
        "rss before MiB": rss_before / 1024,
        "rss after MiB": rss_after / 1024,
        "KiB per socket": per_socket_kib,
        "idle cpu %": idle_cpu * 100,
        "deliveries": deliveries,
        "received": received,
        "us per delivery": per_delivery_us,
        "viewer count ms": count_ms,
    }
    print_table([measured], list(measured))
    print("\nmodel: one game, 100,000 viewers; per process 10,000 sockets (<= 1 core, memory as measured)")
    rows = []
    for name, events_per_s in [
        ("scores only (0.2/s) + viewers (1/s)", 1.2),
        ("busy chat, sampled (20/s) + above", 21.2),
    ]:
        processes = 10
        per_process = 100_000 / processes
        rows.append(
            {
                "load": name,
                "processes": processes,
                "redis msgs/s in": events_per_s,
                "redis msgs/s out": events_per_s * processes,
                "deliveries/s per process": events_per_s * per_process,
                "cpu % per process": events_per_s * per_process * per_delivery_us / 1e6 * 100,
                "memory MiB per process": rss_before / 1024 + per_process * per_socket_kib / 1024,
                "viewer-count cost/s": f"1 COUNT ({count_ms:.1f} ms) + {100_000} deliveries",
            }
        )
    print_table(rows, list(rows[0]))
    print("(events are batched per pass, so the busy-chat CPU is an upper bound; the machine was shared)")
