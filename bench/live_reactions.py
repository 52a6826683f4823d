"""Reactions to a game and chat filters, in one run (`python -m bench live --reactions`).

1. N=1,000 signed-in sockets follow `game:<id>`; each sends one reaction a second (at its own offset in
   the second) for D seconds. Measured: the latency from each reaction to the counts frame that carries
   it, on its own socket (p50/p95/p99; target p95 < 1.5 s), counts frames per socket per second (at most
   one), and the server's CPU per reaction.
2. One non-privileged poster sends R chat messages a second, alternately to a game with no banned terms
   and to a game with 1,000 (900 words, 100 regular expressions); per-post server CPU with terms is
   within 1.2x of without (target), measured in the same run, twice each.

CSN on the in-memory layer (one process, SQLite) and, when REDIS_URL is set, on Redis with PostgreSQL
and `--servers` processes (sockets spread over them).
"""

import asyncio
import json
import math
import multiprocessing
import sys
import time
from datetime import datetime

from bench.common import print_table, summary
from bench.live import _cpu_seconds, csn_backends

CLIENT_PROCESSES = 2
SETUP = """
import django, json, uuid
django.setup()
from django.db import transaction
from accounts.services import token_issue
from accounts.models import User
from content.models import Game, Team
from streaming.live.models import BannedTerm
from django.utils import timezone
run = uuid.uuid4().hex[:8]
home = Team.objects.create(name="Home", slug=f"bench-home-{run}", sport="basketball")
away = Team.objects.create(name="Away", slug=f"bench-away-{run}", sport="basketball")
games = [
    Game.objects.create(home_team=home, away_team=away, sport="basketball", starts_at=timezone.now(), status="live")
    for _ in range(2)
]
users = User.objects.bulk_create(
    [User(email=f"react-{run}-{i}@example.com", display_name=f"Fan {i}", password="!") for i in range(%(n)d + 1)]
)
with transaction.atomic():
    tokens = [token_issue(user=u, name="bench") for u in users]
BannedTerm.objects.bulk_create(
    [BannedTerm(game=games[1], term=f"badword{i}") for i in range(900)]
    + [BannedTerm(game=games[1], term=rf"sp[a4]m{i}\\d+", is_regex=True, action="hold") for i in range(100)]
)
print(json.dumps({"game": games[0].pk, "filtered_game": games[1].pk, "tokens": [t.key for t in tokens]}))
"""


def _reactors_main(url, game, tokens, ready, start, stop_at, results) -> None:
    asyncio.run(_reactors(url, game, tokens, ready, start, stop_at, results))


async def _reactors(urls, game, tokens, ready, start, stop_at, results):
    from websockets.asyncio.client import connect

    sockets = []

    async def open_one(index, token):
        ws = await connect(urls[index % len(urls)], max_size=None, max_queue=None, open_timeout=30)
        await ws.send(json.dumps({"type": "auth", "token": token}))
        await ws.recv()
        await ws.send(json.dumps({"type": "subscribe", "topic": f"game:{game}"}))
        while json.loads(await ws.recv())["type"] != "snapshot":
            pass
        sockets.append(ws)

    for offset in range(0, len(tokens), 50):
        await asyncio.gather(*(open_one(offset + i, t) for i, t in enumerate(tokens[offset : offset + 50])))
    ready.set()
    await asyncio.get_running_loop().run_in_executor(None, start.wait)
    latencies: list[float] = []
    frames_per_second: list[int] = []
    sent = 0

    async def one(index, ws):
        nonlocal sent
        sends: dict[int, list[float]] = {}
        frames: dict[int, int] = {}
        offset = (index * 0.618) % 1.0  # spread over the second

        async def send_loop():
            nonlocal sent
            second = math.floor(time.time()) + 1
            while second + offset < stop_at.value - 2.0:
                await asyncio.sleep(max(0.0, second + offset - time.time()))
                now = time.time()
                sends.setdefault(math.floor(now), []).append(now)
                await ws.send(json.dumps({"type": "reaction", "game": game, "emoji": "🔥"}))
                sent += 1
                second += 1

        async def read_loop():
            while True:
                frame = json.loads(await ws.recv())
                now = time.time()
                for event in frame["events"] if frame["type"] == "batch" else [frame]:
                    if event.get("name") != "game.reactions":
                        continue
                    second = math.floor(datetime.fromisoformat(event["data"]["second"]).timestamp())
                    frames[second] = frames.get(second, 0) + 1
                    # A reaction counts in the second the server received it: the first frame of that
                    # second or later carries it (client and server share the clock, not the instant).
                    for sent_second in [k for k in sends if k <= second]:
                        latencies.extend((now - t) * 1000 for t in sends.pop(sent_second))

        reader = asyncio.ensure_future(read_loop())
        await send_loop()
        await asyncio.sleep(max(0.0, stop_at.value - time.time()))
        reader.cancel()
        frames_per_second.extend(frames.values())
        return sum(len(v) for v in sends.values())  # reactions never seen in a frame

    missing = sum(await asyncio.gather(*(one(i, ws) for i, ws in enumerate(sockets))))
    for ws in sockets:
        await ws.close()
    step = max(1, len(latencies) // 20000)
    results.put((sent, missing, max(frames_per_second, default=0), latencies[::step]))


def measure_reactions(urls, setup, pids, n, duration) -> dict:
    ctx = multiprocessing.get_context("spawn")
    tokens = setup["tokens"][:n]
    ready = [ctx.Event() for _ in range(CLIENT_PROCESSES)]
    start, stop_at, results = ctx.Event(), ctx.Value("d", 0.0), ctx.Queue()
    procs = [
        ctx.Process(
            target=_reactors_main,
            args=(urls, setup["game"], tokens[i::CLIENT_PROCESSES], ready[i], start, stop_at, results),
        )
        for i in range(CLIENT_PROCESSES)
    ]
    for proc in procs:
        proc.start()
    for event in ready:
        event.wait(180)
    stop_at.value = time.time() + duration + 2.0
    cpu_before = sum(_cpu_seconds(pid) for pid in pids)
    start.set()
    sent = missing = most = 0
    latencies: list[float] = []
    for _ in procs:
        got, lost, frames, sample = results.get(timeout=180)
        sent, missing, most = sent + got, missing + lost, max(most, frames)
        latencies.extend(sample)
    cpu = sum(_cpu_seconds(pid) for pid in pids) - cpu_before
    for proc in procs:
        proc.join(10)
    return {
        "N": n,
        "reactions": sent,
        "not in a frame": missing,
        "frames/s max": most,
        **summary(latencies),
        "cpu us/reaction": 1e6 * cpu / sent if sent else None,
    }


async def _post(url, token, game, rate, duration, tag) -> int:
    from websockets.asyncio.client import connect

    async with connect(url, max_size=None) as ws:
        await ws.send(json.dumps({"type": "auth", "token": token}))
        await ws.recv()
        total = int(rate * duration)
        begin = time.monotonic()
        for i in range(total):
            await asyncio.sleep(max(0.0, begin + i / rate - time.monotonic()))
            text = f"what a goal by number {i}, the keeper had no chance at all this time {tag}"
            await ws.send(json.dumps({"type": "chat.send", "game": game, "text": text, "ref": f"{tag}.{i}"}))
            reply = json.loads(await ws.recv())
            while reply.get("type") != "ack" and reply.get("type") != "error":
                reply = json.loads(await ws.recv())
            if reply["type"] == "error":
                raise RuntimeError(f"chat post refused: {reply}")
        return total


def measure_posts(urls, setup, pids, rate, duration) -> list[dict]:
    rows = []
    for run in range(2):
        for label, game in (("no terms", setup["game"]), ("1,000 terms", setup["filtered_game"])):
            cpu_before = sum(_cpu_seconds(pid) for pid in pids)
            posts = asyncio.run(_post(urls[0], setup["tokens"][-1], game, rate, duration, f"{label[:2]}{run}"))
            cpu = sum(_cpu_seconds(pid) for pid in pids) - cpu_before
            rows.append({"posts to": label, "run": run + 1, "posts": posts, "cpu us/post": 1e6 * cpu / posts})
    return rows


def main(argv: list[str]) -> None:
    quick = "--quick" in argv
    servers = next((int(arg.split("=", 1)[1]) for arg in argv if arg.startswith("--servers=")), 2)
    n = 200 if quick else 1000
    duration = 5.0 if quick else 10.0
    env = {"CSN_LIVE_CHAT_RATE_COUNT": "1000000", "CSN_LIVE_FLOOD_PER_SECOND": "1000"}
    backends = csn_backends(env, servers, SETUP % {"n": n})
    reaction_rows, post_rows = [], []
    for name, server in backends:
        with server() as (urls, setup, pids):
            row = {"server": name, **measure_reactions(urls, setup, pids, n, duration)}
            reaction_rows.append(row)
            print_table([row], list(row))
            for post in measure_posts(urls, setup, pids, 20, duration / 2):
                post_rows.append({"server": name, **post})
            sys.stdout.flush()
    print(f"\nreactions: {n} sockets x 1/s for {duration:.0f} s, {CLIENT_PROCESSES} client processes, same machine")
    print_table(reaction_rows, list(reaction_rows[0]))
    print("\nchat posts at 20/s, per-post server CPU without and with 1,000 banned terms")
    print_table(post_rows, list(post_rows[0]))
    fast = all(row["p95"] is not None and row["p95"] < 1500 for row in reaction_rows)
    once = all(row["frames/s max"] <= 1 for row in reaction_rows)
    print(f"target counts frames within 1.5 s p95: {'met' if fast else 'MISSED'}")
    print(f"target at most one counts frame a second per game: {'met' if once else 'MISSED'}")
    for name in {row["server"] for row in post_rows}:
        cost = {
            label: sum(r["cpu us/post"] for r in post_rows if r["server"] == name and r["posts to"] == label) / 2
            for label in ("no terms", "1,000 terms")
        }
        ratio = cost["1,000 terms"] / cost["no terms"]
        print(
            f"target {name}: per-post CPU with terms within 1.2x: {'met' if ratio <= 1.2 else 'MISSED'} ({ratio:.2f}x)"
        )
