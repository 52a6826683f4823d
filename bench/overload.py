"""Overload: find one daphne process's knee, then run at twice it.

Seeds a throwaway database (SQLite under a temporary directory: the point is the process, not the
database) with the demo and a bulk catalogue, and serves it with the catalogue cache off, so each
request is real work (an uncached content page, about 5 ms of CPU). Steps the open-loop rate up by
`--step` until p95 passes `--target` ms or requests are refused: the knee is the last rate below it.
Then `--factor` (2) times the knee for `--duration` s, with `/healthz` probed beside it: accepted
requests' p95, how fast refusals come back (503 `overloaded`, `Retry-After`), and whether /healthz
answered. Each row also gives the server's CPU per answered request (from /proc, so not a wall clock)
and how busy the load generator itself was (its CPU over the run's wall time: near 100%, its own
queueing is in the latencies).

    python -m bench overload [--start=20] [--step=1.25] [--target=100] [--factor=2] [--duration=10]
                             [--env NAME=VALUE ...]   (the server's settings, e.g. CSN_HTTP_THREADS=4)

An A/B instead (no knee search): `--compare` servers started side by side on the same data and driven
in turn, `--rounds` times, each round `--duration` s at the first of `--rates` (CPU per request below the
knee) and at the second with /healthz probed. A server is `LABEL[@TREE][:NAME=VALUE,...]`, TREE another
checkout (e.g. the commit before, from `git archive`) run with this Python:

    python -m bench overload --compare now --compare before@/tmp/before --compare 'p50:CSN_HTTP_MAX_PREDICTED_MS=50'
                             [--rates=60,180] [--rounds=3]
"""

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import ExitStack
from pathlib import Path

from bench.catalogue import BULK
from bench.common import ROOT, cpu_seconds, daphne_process, free_port, percentile, print_table, running
from bench.http import fixed_rate_by_status

PAGE = ("GET", "/api/v1/content/", {"Accept": "application/json"}, b"")
HEALTHZ = ("GET", "/healthz", {}, b"")
POOL = 512  # connections per generator: the server, not the client, must be where requests wait


def _parse(argv):
    parser = argparse.ArgumentParser(prog="bench overload")
    parser.add_argument("--start", type=float, default=20.0, help="first rate tried, requests/s")
    parser.add_argument("--step", type=float, default=1.25, help="each next rate is this times the last")
    parser.add_argument("--step-duration", type=float, default=3.0)
    parser.add_argument("--target", type=float, default=100.0, help="p95 ms that ends the search")
    parser.add_argument("--factor", type=float, default=2.0, help="the overload run's rate, times the knee")
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--env", action="append", default=[], help="NAME=VALUE for the server, repeatable")
    parser.add_argument("--compare", action="append", default=[], help="LABEL[@TREE][:NAME=VALUE,...], repeatable")
    parser.add_argument("--rates", default="60,180", help="--compare: below-knee and overload rates, req/s")
    parser.add_argument("--rounds", type=int, default=3)
    return parser.parse_args(argv)


def _row(label: str, rate: float, by_status: dict, cpu: dict | None = None) -> dict:
    accepted = by_status.get(200, [])
    refused = by_status.get(503, [])
    other = sum(len(v) for k, v in by_status.items() if k not in (200, 503))
    answered = sum(len(v) for k, v in by_status.items() if isinstance(k, int))
    cpu = cpu or {}
    return {
        "run": label,
        "rate": rate,
        "ok": len(accepted),
        "ok p50": percentile(accepted, 50),
        "ok p95": percentile(accepted, 95),
        "503": len(refused),
        "503 p95": percentile(refused, 95),
        "other": other,
        "srv ms/req": cpu.get("server", float("nan")) * 1000 / answered if answered else float("nan"),
        "client busy": f"{cpu['client']:.0%}" if "client" in cpu else "",
    }


def _measured(pid: int, run) -> tuple[dict, dict]:
    """`run()`'s answers by status, and the CPU seconds the server spent meanwhile and the share of the
    wall time this (load generating) process was on a CPU."""
    server, client, wall = cpu_seconds(pid), time.process_time(), time.perf_counter()
    by_status = run()
    wall = time.perf_counter() - wall
    return by_status, {"server": cpu_seconds(pid) - server, "client": (time.process_time() - client) / wall}


def _overloaded(base: str, pid: int, rate: float, duration: float) -> tuple[dict, dict, dict]:
    """`rate` of content pages for `duration` s with /healthz probed at 5/s beside them: the pages'
    answers by status, the CPU (`_measured`), the probe's answers by status."""
    probe: dict = {}

    def healthz():
        probe.update(fixed_rate_by_status(base, lambda i: HEALTHZ, rate=5, duration=duration, pool=8))

    prober = threading.Thread(target=healthz)
    prober.start()
    by_status, cpu = _measured(
        pid, lambda: fixed_rate_by_status(base, lambda i: PAGE, rate=rate, duration=duration, pool=POOL)
    )
    prober.join()
    return by_status, cpu, probe


def _server(spec: str, env: dict, stack: ExitStack):
    """Start the server `spec` (LABEL[@TREE][:NAME=VALUE,...]) on the seeded data; its label and Popen."""
    head, _, settings = spec.partition(":")
    label, _, tree = head.partition("@")
    root = Path(tree) if tree else ROOT
    port = free_port()
    full = {"CSN_LIVE_DRAIN_SECONDS": "1", "CSN_LIVE_SHED_LAG_SECONDS": "3600,3601,3602", **env}
    full.update(pair.split("=", 1) for pair in settings.split(",") if pair)
    full.update(CSN_PORT=str(port), PYTHON=sys.executable, DEBUG="0")
    full = {name: value for name, value in full.items() if value is not None}
    proc = subprocess.Popen([str(root / "bin" / "serve")], cwd=root, env=full, stdout=subprocess.DEVNULL)
    proc.base = f"http://127.0.0.1:{port}"
    stack.enter_context(running(proc, proc.base + "/healthz", "daphne", 30))
    return label, proc


def _compare(args, env: dict) -> None:
    low, high = (float(rate) for rate in args.rates.split(","))
    rows = []
    with ExitStack() as stack:
        servers = [_server(spec, env, stack) for spec in args.compare]
        for round_ in range(1, args.rounds + 1):
            for label, proc in servers:
                by_status, cpu = _measured(
                    proc.pid,
                    lambda base=proc.base: fixed_rate_by_status(base, lambda i: PAGE, rate=low, duration=5, pool=64),
                )
                below = _row(label, low, by_status, cpu)
                by_status, cpu, probe = _overloaded(proc.base, proc.pid, high, args.duration)
                over = _row(label, high, by_status, cpu)
                rows.append(
                    {
                        **over,
                        "round": round_,
                        "load": f"{os.getloadavg()[0]:.1f}",
                        "503 p50": percentile(by_status.get(503, []), 50),
                        "healthz p95": percentile(probe.get(200, []), 95),
                        "healthz other": sum(len(v) for k, v in probe.items() if k != 200),
                        "low p95": below["ok p95"],
                        "low ms/req": below["srv ms/req"],
                    }
                )
                print(f"  {label} round {round_} done", flush=True)
    print(f"{args.rounds} rounds; each: 5 s at {low:.0f} req/s (low), {args.duration:.0f} s at {high:.0f} req/s")
    columns = ["run", "round", "load", "low p95", "low ms/req", "ok", "ok p50", "ok p95", "503", "503 p50"]
    print_table(rows, [*columns, "503 p95", "other", "srv ms/req", "healthz p95", "healthz other"])


def main(argv: list[str]) -> None:
    args = _parse(argv)
    with tempfile.TemporaryDirectory() as var:
        env = {**os.environ, "CSN_VAR_DIR": var, "DJANGO_SETTINGS_MODULE": "csn.settings"}
        for name in ("DATABASE_URL", "REDIS_URL"):
            env.pop(name, None)
        env.update(CSN_CATALOGUE_CACHE_SECONDS="0", CSN_ANON_READ_THROTTLE="100000000/min")
        py = sys.executable
        subprocess.run([py, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
        subprocess.run([py, "manage.py", "seed_demo"], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
        subprocess.run([py, "-c", BULK, "500"], cwd=ROOT, env=env, check=True, capture_output=True)
        if args.compare:
            return _compare(args, {**env, "DATABASE_URL": None, "REDIS_URL": None})
        rows = []
        # SQLite and no Redis: unset for the server too (daphne_server adds this process's environment).
        server_env = {**env, "DATABASE_URL": None, "REDIS_URL": None}
        server_env.update(pair.split("=", 1) for pair in args.env)
        with daphne_process(server_env) as proc:
            base = proc.base
            rate, knee = args.start, None
            while True:
                by_status, cpu = _measured(
                    proc.pid,
                    lambda rate=rate: fixed_rate_by_status(
                        base, lambda i: PAGE, rate=rate, duration=args.step_duration, pool=POOL
                    ),
                )
                row = _row("search", rate, by_status, cpu)
                rows.append(row)
                print(f"  {rate:.0f} req/s: ok p95 {row['ok p95']:.1f} ms, {row['503']} refused", flush=True)
                if row["503"] or row["other"] or row["ok p95"] >= args.target:
                    break
                knee, rate = rate, rate * args.step
            knee = knee or args.start
            over = knee * args.factor
            by_status, cpu, probe = _overloaded(base, proc.pid, over, args.duration)
            rows.append(_row(f"{args.factor:g}x knee", over, by_status, cpu))
        rows.append(_row("/healthz beside it", 5.0, probe))
        print(
            f"knee of one process: {knee:.0f} req/s (uncached content page, p95 < {args.target:.0f} ms, none refused)"
        )
        print(f"machine load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
        if args.env:
            print("server settings:", " ".join(args.env))
        columns = ["run", "rate", "ok", "ok p50", "ok p95", "503", "503 p95", "other", "srv ms/req", "client busy"]
        print_table(rows, columns)
        at_twice, health = rows[-2], rows[-1]
        print(
            "targets at twice the knee: accepted p95 < 100 ms "
            f"{'met' if at_twice['ok p95'] < 100 else 'MISSED'}; refusals within 50 ms (p95) "
            f"{'met' if not at_twice['503'] or at_twice['503 p95'] < 50 else 'MISSED'}; /healthz answered "
            f"{'met' if health['ok'] and not health['503'] and not health['other'] else 'MISSED'}"
        )
