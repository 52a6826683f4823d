"""Aligned live delivery (`python -m bench live --align`): N sockets on one chat over H horizons spread
across 0-60 s behind the live edge, one sender at R messages/s; and the same N unaligned, in the same run.

For each message and socket: lateness = arrival - (send time + the socket's delay as the server took it,
the `delay` of its snapshot: the asked delay plus the time its subscription waited to be read). Targets (issue 12):
0 lost, no message before its horizon (lateness < 0), p95 lateness < 250 ms, aligned delivered/s at least
half of the unaligned run's. A message is sent before the server times it, so a lateness measured from
the send time is an upper bound (it includes the write path).

    python -m bench live --align [--quick] [--servers=2]
"""

import asyncio
import json
import sys
import time
from datetime import UTC, datetime

from bench.common import print_table, summary
from bench.live import CLIENT_PROCESSES, Clients, _cpu_seconds, _send, csn_backends

MAX_DELAY = 60.0


def _horizon(delay: float) -> str:
    return datetime.fromtimestamp(time.time() - delay, UTC).isoformat().replace("+00:00", "Z")


def _receivers_main(url, topic, tag, delays, ready, start, stop_at, results) -> None:
    asyncio.run(_receivers(url, topic, tag, delays, ready, start, stop_at, results))


async def _receivers(url, topic, tag, delays, ready, start, stop_at, results):
    from websockets.asyncio.client import connect

    lateness: list[float] = []
    received = early = 0
    sockets = []

    async def open_one(delay):
        for attempt in range(5):  # a loaded machine drops the odd handshake: try again
            try:
                ws = await connect(url, max_size=None, max_queue=None, open_timeout=30)
                break
            except Exception:
                if attempt == 4:
                    raise
                await asyncio.sleep(0.5 * (attempt + 1))
        subscribe = {"type": "subscribe", "topic": topic}
        if delay is not None:
            subscribe.update(align=True, horizon=_horizon(delay))
        await ws.send(json.dumps(subscribe))
        while (reply := json.loads(await ws.recv()))["type"] != "snapshot":
            pass
        # The delay the server took: the asked one plus the time the subscription waited to be read.
        sockets.append((ws, reply.get("delay", 0.0)))

    for offset in range(0, len(delays), 25):
        await asyncio.gather(*(open_one(delay) for delay in delays[offset : offset + 25]))
    ready.set()

    async def read(ws, delay):
        nonlocal received, early
        try:
            while True:
                frame = json.loads(await ws.recv())
                events = frame["events"] if frame["type"] == "batch" else [frame]
                now = time.time()
                for event in events:
                    if event.get("name") == "chat.message":
                        parts = event["data"]["text"].split()
                        if parts[0] == tag:
                            received += 1
                            late = (now - float(parts[2]) - delay) * 1000
                            early += late < 0
                            lateness.append(late)
        except Exception:
            return

    readers = [asyncio.ensure_future(read(ws, delay)) for ws, delay in sockets]
    await asyncio.get_running_loop().run_in_executor(None, start.wait)
    await asyncio.sleep(max(0.0, stop_at.value - time.time()))
    for task in readers:
        task.cancel()
    for ws, _ in sockets:
        await ws.close()
    step = max(1, len(lateness) // 20000)
    results.put((received, early, lateness[::step]))


def measure(urls, setup, pids, delays, rate, duration) -> dict:
    """`delays`: one per socket (None: unaligned). Receivers spread over the servers, the sender on the first."""
    topic = f"chat:{setup['game']}"
    tag = f"align{len(delays)}x{rate}x{time.time():.0f}"
    shares = [(urls[i % len(urls)], topic, tag, delays[i::CLIENT_PROCESSES]) for i in range(CLIENT_PROCESSES)]
    clients = Clients(_receivers_main, shares, ready_timeout=180)
    longest = max((d for d in delays if d is not None), default=0.0)
    cpu_before = sum(_cpu_seconds(pid) for pid in pids)
    clients.go(duration + longest + 3.0)
    sent, acks = asyncio.run(_send(urls[0], setup, rate, duration, tag))
    received, early, lateness = 0, 0, []
    results, _ = clients.collect(timeout=longest + 180)
    for got, too_early, sample in results:
        received += got
        early += too_early
        lateness.extend(sample)
    cpu = sum(_cpu_seconds(pid) for pid in pids) - cpu_before
    expected = sent * len(delays)
    aligned = any(d is not None for d in delays)
    return {
        "mode": f"aligned, {len(set(delays))} horizons 0-{longest:.0f} s" if aligned else "unaligned",
        "N": len(delays),
        "R": rate,
        "delivered/s": received / duration,
        "lost": expected - received,
        "early": early,
        **{f"late {k}": v for k, v in summary(lateness).items()},
        "server cpu s": cpu,
        "ack p95": summary(acks)["p95"] if acks else None,
    }


def main(argv: list[str]) -> None:
    quick = "--quick" in argv
    servers = next((int(arg.split("=", 1)[1]) for arg in argv if arg.startswith("--servers=")), 2)
    n, rate, horizons = (200, 10, 10) if quick else (1000, 10, 10)
    duration = 4.0 if quick else 8.0
    delays = [MAX_DELAY * (i % horizons) / (horizons - 1) for i in range(n)]
    rows = []
    for name, server in csn_backends({}, servers):
        with server() as (urls, setup, pids):
            for socket_delays in ([None] * n, delays):
                row = {"server": name, **measure(urls, setup, pids, socket_delays, rate, duration)}
                rows.append(row)
                print_table([row], list(row))
                sys.stdout.flush()
    columns = ["server", "mode", "N", "R", "delivered/s", "lost", "early", "late p50", "late p95", "late p99"]
    print(f"\naligned live delivery, {duration:.0f} s of sending per run, {CLIENT_PROCESSES} client processes")
    print_table(rows, [*columns, "server cpu s", "ack p95"])
    aligned = [r for r in rows if r["mode"] != "unaligned"]
    unaligned = {r["server"]: r["delivered/s"] for r in rows if r["mode"] == "unaligned"}
    print(f"target 0 lost: {'met' if all(r['lost'] == 0 for r in aligned) else 'MISSED'}")
    print(f"target none before its horizon: {'met' if all(r['early'] == 0 for r in aligned) else 'MISSED'}")
    p95 = all(r["late p95"] is not None and r["late p95"] < 250 for r in aligned)
    print(f"target p95 lateness < 250 ms: {'met' if p95 else 'MISSED'}")
    half = all(r["delivered/s"] >= 0.5 * unaligned[r["server"]] for r in aligned)
    print(f"target aligned delivered/s >= 0.5 x unaligned: {'met' if half else 'MISSED'}")
