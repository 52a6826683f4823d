"""Live chat fan-out: N websockets on one chat, one sender at R messages/s.

Prints delivered messages/s, loss and p50/p95/p99 delivery latency for N in (200, 1000) x R in (10, 50)
against (a) CSN on the in-memory layer (in-process hub), (b) CSN on Redis (pub/sub hub; only when
REDIS_URL is set) and (c) a minimal `websockets` broadcast server, the floor, in the same run.

    python -m bench live [--quick] [--servers=2]
    python -m bench live --flood [--quick] [--n=1000] [--chat-rate=1000]   (load shedding; needs REDIS_URL)
    python -m bench live --align [--quick]   (aligned delivery: bench/live_align.py)
    python -m bench live --reactions [--quick] [--servers=2]   (bench/live_reactions.py)

CSN runs under daphne (bin/serve). On the in-memory layer it is the embedded default: a throw-away
SQLite database. On Redis it is the production shape: a throw-away PostgreSQL database
(`csn_bench_live` on the server DATABASE_URL names; SQLite when DATABASE_URL is not PostgreSQL).
BENCH_DATABASE_URL overrides both. The sender is a staff user (moderators and staff skip chat rate
limits); the flood limit is raised for it.
"""

import asyncio
import json
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager, suppress

from bench.common import ROOT, free_port, open_followers, postgres_admin, print_table, script_json, summary

CLIENT_PROCESSES = 2
SETUP = """
import django, json, uuid
django.setup()
from django.contrib.auth.models import Group
from accounts.services import token_issue
from accounts.services import user_create
from content.models import Game, Team
from django.utils import timezone
run = uuid.uuid4().hex[:8]  # BENCH_DATABASE_URL may be reused between runs
home = Team.objects.create(name="Home", slug=f"bench-home-{run}", sport="basketball")
away = Team.objects.create(name="Away", slug=f"bench-away-{run}", sport="basketball")
game = Game.objects.create(home_team=home, away_team=away, sport="basketball", starts_at=timezone.now(), status="live")
user = user_create(email=f"bench-{run}@example.com", password="bench-password-123", display_name="Bench", is_staff=True)
print(json.dumps({"game": game.pk, "token": token_issue(user=user).key}))
"""


def _cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def throwaway_postgres():
    """A fresh `csn_bench_live` database on the PostgreSQL server DATABASE_URL names ("" if none)."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        yield ""
        return
    bench_url = url.rsplit("/", 1)[0] + "/csn_bench_live"
    with postgres_admin(url) as conn:
        conn.execute("DROP DATABASE IF EXISTS csn_bench_live WITH (FORCE)")
        conn.execute("CREATE DATABASE csn_bench_live")
    try:
        yield bench_url
    finally:
        with postgres_admin(url) as conn:
            conn.execute("DROP DATABASE IF EXISTS csn_bench_live WITH (FORCE)")


@contextmanager
def csn_server(env: dict, database_url: str = "", processes: int = 1, setup_script: str = SETUP):
    """Migrate a fresh database, run `setup_script` (by default: create a live game and a sender; it
    prints a JSON line), run `processes` daphne processes; yields (urls, setup, pids)."""
    with tempfile.TemporaryDirectory() as var:
        full_env = {
            **os.environ,
            "CSN_VAR_DIR": var,
            "DATABASE_URL": os.environ.get("BENCH_DATABASE_URL", database_url),
            "DJANGO_SETTINGS_MODULE": "csn.settings",
            "DEBUG": "0",
            "LOG_LEVEL": "WARNING",
            "CSN_LIVE_FLOOD_PER_SECOND": "1000",
            "CSN_LIVE_SEND_QUEUE_MAX": "20000",
            **env,
        }
        run = {"cwd": ROOT, "env": full_env, "check": True, "capture_output": True, "text": True}
        subprocess.run([sys.executable, "manage.py", "migrate", "--noinput"], **run)
        setup = json.loads(subprocess.run([sys.executable, "-c", setup_script], **run).stdout.strip().splitlines()[-1])
        procs, urls = [], []
        try:
            for _ in range(processes):
                port = free_port()
                proc = subprocess.Popen(
                    [str(ROOT / "bin" / "serve")],
                    cwd=ROOT,
                    env={**full_env, "CSN_PORT": str(port), "PYTHON": sys.executable},
                    stdout=subprocess.DEVNULL,
                )
                procs.append(proc)
                _wait_http(f"http://127.0.0.1:{port}/healthz", proc)
                urls.append(f"ws://127.0.0.1:{port}/ws/")
            yield urls, setup, [proc.pid for proc in procs]
        finally:
            for proc in procs:
                proc.terminate()
                proc.wait(10)


def _wait_http(url, proc):
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(url, timeout=1).read()
            return
        except OSError:
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError("server did not start") from None
            time.sleep(0.2)


class Clients:
    """`len(shares)` client processes, each `target(*share, ready, start, stop_at, results)`: it opens its
    sockets, sets `ready`, waits for `start`, reads until `stop_at` (epoch seconds) and puts one result on
    `results`. Every live bench starts its receivers this way."""

    def __init__(self, target, shares: list[tuple], ready_timeout: float = 300):
        ctx = multiprocessing.get_context("spawn")
        self.start, self.stop_at, self.results = ctx.Event(), ctx.Value("d", 0.0), ctx.Queue()
        ready = [ctx.Event() for _ in shares]
        self.procs = [
            ctx.Process(target=target, args=(*share, ready[i], self.start, self.stop_at, self.results))
            for i, share in enumerate(shares)
        ]
        for proc in self.procs:
            proc.start()
        for event in ready:
            event.wait(ready_timeout)
        self.cpu_before = 0.0

    def go(self, read_for: float) -> None:
        """Start reading, for `read_for` seconds from now."""
        self.stop_at.value = time.time() + read_for
        self.cpu_before = sum(_cpu_seconds(proc.pid) for proc in self.procs)
        self.start.set()

    def collect(self, timeout: float) -> tuple[list, float]:
        """Each process's result (in the order they came) and the CPU seconds the clients used since `go`."""
        results = [self.results.get(timeout=timeout) for _ in self.procs]
        cpu = 0.0
        for proc in self.procs:
            with suppress(OSError):
                cpu += _cpu_seconds(proc.pid)  # ended but not yet reaped: its times are still there
        for proc in self.procs:
            proc.join(10)
        return results, cpu - self.cpu_before


def _share(n: int, parts: int) -> list[int]:
    return [n // parts + (1 if i < n % parts else 0) for i in range(parts)]


# --- the floor: a minimal websockets broadcast server ------------------------------------------
def _floor_main(port: int) -> None:
    from websockets.asyncio.server import broadcast, serve

    clients = set()
    seq = 0

    async def handler(ws):
        nonlocal seq
        try:
            await ws.send(json.dumps({"type": "hello"}))  # CSN's first frame; the sender waits for it
            async for raw in ws:
                message = json.loads(raw)
                if message["type"] == "subscribe":
                    clients.add(ws)
                    await ws.send(json.dumps({"type": "snapshot", "topic": message["topic"], "seq": seq}))
                elif message["type"] == "chat.send":
                    seq += 1
                    frame = json.dumps(
                        {
                            "type": "event",
                            "topic": "chat:1",
                            "seq": seq,
                            "name": "chat.message",
                            "data": {"text": message["text"]},
                        }
                    )
                    broadcast(clients, frame)
                    ack = {"type": "ack", "ref": message.get("ref"), "message": {"text": message["text"]}}
                    await ws.send(json.dumps(ack))
                elif message["type"] == "auth":
                    await ws.send(json.dumps({"type": "ack", "ref": message.get("ref")}))
        finally:
            clients.discard(ws)

    async def main():
        async with serve(handler, "127.0.0.1", port, max_queue=None):
            await asyncio.Future()

    asyncio.run(main())


@contextmanager
def floor_server():
    port = free_port()
    proc = multiprocessing.get_context("spawn").Process(target=_floor_main, args=(port,), daemon=True)
    proc.start()
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                import socket

                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("floor server did not start") from None
                time.sleep(0.1)
        yield [f"ws://127.0.0.1:{port}/"], {"game": 1, "token": "floor"}, [proc.pid]
    finally:
        proc.terminate()
        proc.join(5)


# --- load clients -------------------------------------------------------------------------------
def _receivers_main(url, topic, tag, count, ready, start, stop_at, results) -> None:
    asyncio.run(_receivers(url, topic, tag, count, ready, start, stop_at, results))


async def _receivers(url, topic, tag, count, ready, start, stop_at, results):
    latencies: list[float] = []
    received = 0
    sockets = [ws for ws, _ in await open_followers(url, [topic], count)]
    ready.set()

    async def read(ws):
        nonlocal received
        try:
            while True:
                frame = json.loads(await ws.recv())
                events = frame["events"] if frame["type"] == "batch" else [frame]
                now = time.time()
                for event in events:
                    if event.get("name") == "chat.message":
                        parts = event["data"]["text"].split()
                        if parts[0] == tag:  # not a late message of an earlier point
                            received += 1
                            latencies.append((now - float(parts[2])) * 1000)
        except Exception:
            return

    readers = [asyncio.ensure_future(read(ws)) for ws in sockets]
    await asyncio.get_running_loop().run_in_executor(None, start.wait)
    await asyncio.sleep(max(0.0, stop_at.value - time.time()))
    for task in readers:
        task.cancel()
    for ws in sockets:
        await ws.close()
    step = max(1, len(latencies) // 20000)  # a bounded sample is enough for percentiles
    results.put((received, latencies[::step]))


async def _send(url, setup, rate, duration, tag) -> int:
    from websockets.asyncio.client import connect

    async with connect(url, max_size=None) as ws:
        await ws.recv()  # hello
        await ws.send(json.dumps({"type": "auth", "token": setup["token"]}))
        await ws.recv()
        acks: list[float] = []
        drain = asyncio.ensure_future(_drain(ws, acks))
        total = int(rate * duration)
        begin = time.monotonic()
        for i in range(total):
            delay = begin + i / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            text = f"{tag} {i} {time.time():.6f}"
            # A ref unique per point: a repeated ref is (rightly) not posted twice.
            ref = f"{tag}.{i}"
            await ws.send(json.dumps({"type": "chat.send", "game": setup["game"], "text": text, "ref": ref}))
        await asyncio.sleep(0.5)
        drain.cancel()
        return total, acks


async def _drain(ws, acks):
    """Time from each chat.send to its ack: the write path (validation, database, publish)."""
    async for raw in ws:
        message = json.loads(raw)
        if message.get("type") == "ack" and message.get("message"):
            acks.append((time.time() - float(message["message"]["text"].split()[2])) * 1000)


def measure(urls, setup, pids, n, rate, duration) -> dict:
    """Receivers spread over the servers (as a load balancer would), the sender on the first."""
    topic = f"chat:{setup['game']}"
    tag = f"{n}x{rate}x{time.time():.0f}"
    shares = [(urls[i % len(urls)], topic, tag, count) for i, count in enumerate(_share(n, CLIENT_PROCESSES))]
    clients = Clients(_receivers_main, shares, ready_timeout=120)
    cpu_before = sum(_cpu_seconds(pid) for pid in pids)
    clients.go(duration + 3.0)  # drain time after the last send
    sent, acks = asyncio.run(_send(urls[0], setup, rate, duration, tag))
    received, latencies = 0, []
    results, _ = clients.collect(timeout=120)
    for got, sample in results:
        received += got
        latencies.extend(sample)
    cpu = sum(_cpu_seconds(pid) for pid in pids) - cpu_before
    expected = sent * n
    return {
        "N": n,
        "R": rate,
        "delivered/s": received / duration,
        "lost": expected - received,
        "lost %": 100.0 * (expected - received) / expected if expected else 0.0,
        **summary(latencies),
        "server cpu %": 100.0 * cpu / (duration + 3.0),
        "ack p95": summary(acks)["p95"] if acks else None,
    }


def csn_backends(env: dict, servers: int, setup_script: str = SETUP) -> list:
    """(name, server context) for CSN on the in-memory layer and, when REDIS_URL is set, on Redis with a
    throw-away PostgreSQL database and `servers` processes."""
    backends = [("csn-inmemory", lambda: csn_server({**env, "REDIS_URL": ""}, setup_script=setup_script))]
    redis_url = os.environ.get("REDIS_URL", "")
    if redis_url:

        @contextmanager
        def redis_backend():
            with (
                throwaway_postgres() as database_url,
                csn_server({**env, "REDIS_URL": redis_url}, database_url, servers, setup_script) as server,
            ):
                yield server

        backends.append((f"csn-redis x{servers}", redis_backend))
    else:
        print("REDIS_URL is not set: CSN on Redis is not measured in this run.")
    return backends


def main(argv: list[str]) -> None:
    if "--flood" in argv:
        flood(argv)
        return
    if "--reactions" in argv:  # reactions and chat filters: bench/live_reactions.py
        from bench import live_reactions

        live_reactions.main(argv)
        return
    if "--align" in argv:  # time-aligned delivery (issue 12): bench/live_align.py
        from bench import live_align

        live_align.main(argv)
        return
    quick = "--quick" in argv
    # CSN on Redis runs one daphne process per core by default, the production shape behind a load
    # balancer (the in-memory layer is one process by nature): --servers=1 shows one process alone.
    servers = next((int(arg.split("=", 1)[1]) for arg in argv if arg.startswith("--servers=")), 2)
    duration = 3.0 if quick else 8.0
    points = [(200, 10), (200, 50), (1000, 10), (1000, 50)]
    backends = csn_backends({}, servers)
    backends.append(("floor-websockets", floor_server))
    rows = []
    for name, server in backends:
        with server() as (urls, setup, pids):
            for n, rate in points:
                row = {"server": name, **measure(urls, setup, pids, n, rate, duration)}
                rows.append(row)
                print_table([row], list(row))
                sys.stdout.flush()
    floor = {(r["N"], r["R"]): r["delivered/s"] for r in rows if r["server"] == "floor-websockets"}
    for row in rows:
        row["vs floor"] = row["delivered/s"] / floor[(row["N"], row["R"])] if floor.get((row["N"], row["R"])) else None
    print(f"\nlive fan-out, {duration:.0f} s per point, {CLIENT_PROCESSES} client processes, same machine")
    columns = ["server", "N", "R", "delivered/s", "lost", "lost %", "p50", "p95", "p99", "server cpu %", "ack p95"]
    columns.append("vs floor")
    print_table(rows, columns)
    csn = [row for row in rows if row["server"].startswith("csn-")]
    lossless = all(row["lost"] == 0 for row in csn)
    redis_point = [row for row in csn if row["server"].startswith("csn-redis") and (row["N"], row["R"]) == (1000, 10)]
    fast = bool(redis_point) and redis_point[0]["p95"] < 100.0
    half = all(row["vs floor"] is not None and row["vs floor"] >= 0.5 for row in csn)
    print(f"target no message lost (CSN): {'met' if lossless else 'MISSED'}")
    print(f"target p95 < 100 ms at N=1000 R=10 on Redis: {'met' if fast else 'MISSED (or not measured)'}")
    print(f"target delivered >= 0.5 x floor at every N and R: {'met' if half else 'MISSED'}")


# --- python -m bench live --flood: scores keep flowing while chat floods ----------------------------
FLOOD_PUBLISHER = """
import django, json, sys, time, random
django.setup()
from django.db import transaction
from csn.realtime.publish import publish, publish_many
game, chat_rate, score_every, duration = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
topic_game, topic_chat = f"game:{game}", f"chat:{game}"
begin = time.monotonic()
tick, next_score, scores, chats = 0.05, 0.0, 0, 0
while (now := time.monotonic() - begin) < duration:
    if now >= next_score:
        with transaction.atomic():
            publish(topic=topic_game, name="game.event", data={"score": scores, "sent_at": time.time()})
        scores += 1
        next_score += score_every
    batch = int(chat_rate * tick)
    with transaction.atomic():
        publish_many([
            (topic_chat, "chat.message", {"user": {"id": random.randint(1, 10**6)}, "text": "flood " * 8, "sent_at": time.time()})
            for _ in range(batch)
        ])
    chats += batch
    time.sleep(max(0.0, tick - (time.monotonic() - begin - now)))
print(json.dumps({"scores": scores, "chats": chats}))
"""


# Scores published this long after the flood began show the settled state (the level climbs meanwhile).
SETTLE_SECONDS = 2.0
FLOOD_COUNTS = ("scores", "chat", "skipped", "notes", "gaps", "dropped", "frames", "bytes")


def _flood_receivers_main(url, game, count, sample, ready, start, stop_at, results) -> None:
    asyncio.run(_flood_receivers(url, game, count, sample, ready, start, stop_at, results))


def _applied(event: dict, last: dict, gaps: list) -> None:
    """Check that `event` follows the last seq of its topic (a protocol 2 `skipped` note stands for
    `count` seqs ending at its own) and move the topic on; a gap goes on `gaps` as (topic, last, first)."""
    topic, seq = event["topic"], event["seq"]
    count = event["data"].get("count", 1) if event["name"] == "skipped" else 1
    if seq - count != last[topic]:
        gaps.append((topic, last[topic], seq - count + 1))
    last[topic] = seq


async def _flood_receivers(url, game, count, sample, ready, start, stop_at, results):
    """`count` sockets on the game and its chat, all reading everything (a socket that stops reading
    would be cut off). The first `sample` parse every frame: score latency, chat delivered and shed,
    gaps on both topics. The others parse only the frames of the game topic (a bytes search finds them):
    every socket counts its score events and gaps there, so "0 lost" holds for all N, at a fraction of
    the clients' CPU. Every socket counts its frames and bytes."""
    score_latencies: list[tuple[float, float]] = []  # (published, ms to receipt)
    gaps: list[tuple] = []
    counts = dict.fromkeys(FLOOD_COUNTS, 0)
    sockets = await open_followers(url, [f"game:{game}", f"chat:{game}"], count)
    ready.set()
    game_marker = f'"topic":"game:{game}"'.encode()

    def game_events(data: bytes, last: dict) -> None:
        frame = json.loads(data)
        for event in frame["events"] if frame["type"] == "batch" else [frame]:
            if event.get("type") != "event" or event["topic"] != f"game:{game}":
                continue
            _applied(event, last, gaps)
            counts["scores"] += event["name"] == "game.event"

    async def read_cheaply(ws, last):
        try:
            while True:
                data = await ws.recv(decode=False)
                counts["frames"] += 1
                counts["bytes"] += len(data)
                if game_marker in data:
                    game_events(data, last)
        except asyncio.CancelledError:
            raise
        except Exception:  # the socket closed under the client (a slow reader cut off, a timeout)
            counts["dropped"] += 1

    async def read_all(ws, last):
        try:
            while True:
                data = await ws.recv(decode=False)
                now = time.time()
                counts["frames"] += 1
                counts["bytes"] += len(data)
                frame = json.loads(data)
                for event in frame["events"] if frame["type"] == "batch" else [frame]:
                    if event.get("type") != "event":
                        continue
                    _applied(event, last, gaps)
                    if event["name"] == "game.event":
                        counts["scores"] += 1
                        sent_at = event["data"]["sent_at"]
                        score_latencies.append((sent_at, (now - sent_at) * 1000))
                    elif event["name"] == "chat.message":
                        counts["chat"] += 1
                    elif event["name"] == "skipped" and event["topic"] != f"game:{game}":
                        counts["notes"] += 1
                        counts["skipped"] += event["data"].get("count", 1)
        except asyncio.CancelledError:
            raise
        except Exception:
            counts["dropped"] += 1

    readers = [
        asyncio.ensure_future((read_all if index < sample else read_cheaply)(ws, last))
        for index, (ws, last) in enumerate(sockets)
    ]
    await asyncio.get_running_loop().run_in_executor(None, start.wait)
    await asyncio.sleep(max(0.0, stop_at.value - time.time()))
    for task in readers:
        task.cancel()
    for ws, _ in sockets:
        await ws.close()
    counts["gaps"] = len(gaps)
    results.put((counts, score_latencies, gaps[:5]))


def flood_point(urls, setup, pids, n, chat_rate, duration, env, sample=50) -> dict:
    drain_time = 5.0
    shares = [
        (urls[i % len(urls)], setup["game"], count, part)
        for i, (count, part) in enumerate(
            zip(_share(n, CLIENT_PROCESSES), _share(sample, CLIENT_PROCESSES), strict=True)
        )
    ]
    clients = Clients(_flood_receivers_main, shares, ready_timeout=300)
    cpu_before = sum(_cpu_seconds(pid) for pid in pids)
    load_before = os.getloadavg()[0]
    clients.go(duration + drain_time)
    published = script_json(FLOOD_PUBLISHER, [setup["game"], chat_rate, 0.2, duration], env)
    totals = dict.fromkeys(FLOOD_COUNTS, 0)
    timed: list[tuple[float, float]] = []
    results, client_cpu = clients.collect(timeout=300)
    for counts, sample_latencies, gaps in results:
        timed.extend(sample_latencies)
        for key in totals:
            totals[key] += counts[key]
        if gaps:
            print("first gaps (topic, last seq, next first seq):", gaps)
    cpu = sum(_cpu_seconds(pid) for pid in pids) - cpu_before
    window = duration + drain_time
    began = min((sent for sent, _ in timed), default=0.0)  # the first score: the flood starts with it
    latencies = [ms for _, ms in timed]
    settled = [ms for sent, ms in timed if sent >= began + SETTLE_SECONDS]
    return {
        "N": n,
        "chat/s": chat_rate,
        "scores lost": published["scores"] * n - totals["scores"],
        "score p50": summary(latencies)["p50"],
        "score p95": summary(latencies)["p95"],
        f"p95 after {SETTLE_SECONDS:.0f} s": summary(settled)["p95"],
        "chat shed %": 100.0 * totals["skipped"] / max(1, totals["skipped"] + totals["chat"]),
        "shed/note": totals["skipped"] / totals["notes"] if totals["notes"] else None,
        "gaps": totals["gaps"],
        "sockets dropped": totals["dropped"],
        "frames/socket/s": totals["frames"] / n / window,
        "KiB/socket/s": totals["bytes"] / 1024 / n / window,
        "server cpu %": 100.0 * cpu / window,
        "client cpu %": 100.0 * client_cpu / window,
        "load 1m": f"{load_before:.1f}-{os.getloadavg()[0]:.1f}",
    }


def flood(argv: list[str]) -> None:
    """One game, N sockets each on its game and chat topics; chat published far past what the room can
    fan out, a score event every 200 ms; with load shedding (the default) on protocol 2 and 1, and without
    it."""
    redis_url = os.environ.get("REDIS_URL", "")
    if not redis_url:
        print("REDIS_URL is not set: the flood needs the Redis hub (the publisher is another process).")
        return
    n = next((int(arg.split("=", 1)[1]) for arg in argv if arg.startswith("--n=")), 1000)
    chat_rate = next((float(arg.split("=", 1)[1]) for arg in argv if arg.startswith("--chat-rate=")), 1000.0)
    sample = next((int(arg.split("=", 1)[1]) for arg in argv if arg.startswith("--sample=")), 50)
    duration = 5.0 if "--quick" in argv else 15.0
    rows = []
    modes = [
        ("shedding", 2, {}),
        ("shedding, protocol 1", 1, {}),
        ("no shedding", 2, {"CSN_LIVE_SHED_LAG_SECONDS": "1000,1001,1002"}),
    ]
    if "--quick" in argv:
        modes = [modes[0], modes[2]]
    for name, version, extra in modes:
        with (
            throwaway_postgres() as database_url,
            csn_server({"REDIS_URL": redis_url, **extra}, database_url) as (urls, setup, pids),
        ):
            env = {
                **os.environ,
                "DATABASE_URL": os.environ.get("BENCH_DATABASE_URL", database_url),
                "REDIS_URL": redis_url,
                "DJANGO_SETTINGS_MODULE": "csn.settings",
                "LOG_LEVEL": "WARNING",
            }
            versioned = [f"{url}?v={version}" for url in urls]
            row = {"mode": name, **flood_point(versioned, setup, pids, n, chat_rate, duration, env, sample)}
            rows.append(row)
            print_table([row], list(row))
            sys.stdout.flush()
    print(
        f"\nlive flood, one server process, {duration:.0f} s, {CLIENT_PROCESSES} client processes on the same "
        f"{os.cpu_count()} cores ({sample} sockets parse every frame, the others only the game's); cpu %: of one core"
    )
    print_table(rows, list(rows[0]))
    shed = rows[0]
    met = shed["scores lost"] == 0 and shed["score p95"] is not None and shed["score p95"] < 250
    print(f"target with shedding: scores 0 lost and p95 < 250 ms: {'met' if met else 'MISSED'}")
