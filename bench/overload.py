"""Overload: find one daphne process's knee, then run at twice it.

Seeds a throwaway database (SQLite under a temporary directory: the point is the process, not the
database) with the demo and a bulk catalogue, and serves it with the catalogue cache off, so each
request is real work (an uncached content page, about 5 ms of CPU). Steps the open-loop rate up by
`--step` until p95 passes `--target` ms or requests are refused: the knee is the last rate below it.
Then `--factor` (2) times the knee for `--duration` s, with `/healthz` probed beside it: accepted
requests' p95, how fast refusals come back (503 `overloaded`, `Retry-After`), and whether /healthz
answered.

    python -m bench overload [--start=20] [--step=1.25] [--target=100] [--factor=2] [--duration=10]
"""

import argparse
import os
import subprocess
import sys
import tempfile
import threading

from bench.catalogue import BULK
from bench.common import ROOT, daphne_server, percentile, print_table
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
    return parser.parse_args(argv)


def _row(label: str, rate: float, by_status: dict) -> dict:
    accepted = by_status.get(200, [])
    refused = by_status.get(503, [])
    other = sum(len(v) for k, v in by_status.items() if k not in (200, 503))
    return {
        "run": label,
        "rate": rate,
        "ok": len(accepted),
        "ok p50": percentile(accepted, 50),
        "ok p95": percentile(accepted, 95),
        "503": len(refused),
        "503 p95": percentile(refused, 95),
        "other": other,
    }


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
        rows = []
        # SQLite and no Redis: unset for the server too (daphne_server adds this process's environment).
        with daphne_server({**env, "DATABASE_URL": None, "REDIS_URL": None}) as base:
            rate, knee = args.start, None
            while True:
                by_status = fixed_rate_by_status(
                    base, lambda i: PAGE, rate=rate, duration=args.step_duration, pool=POOL
                )
                row = _row("search", rate, by_status)
                rows.append(row)
                print(f"  {rate:.0f} req/s: ok p95 {row['ok p95']:.1f} ms, {row['503']} refused", flush=True)
                if row["503"] or row["other"] or row["ok p95"] >= args.target:
                    break
                knee, rate = rate, rate * args.step
            knee = knee or args.start
            over = knee * args.factor
            probe: dict = {}

            def healthz():
                probe.update(fixed_rate_by_status(base, lambda i: HEALTHZ, rate=5, duration=args.duration, pool=8))

            prober = threading.Thread(target=healthz)
            prober.start()
            rows.append(
                _row(
                    f"{args.factor:g}x knee",
                    over,
                    fixed_rate_by_status(base, lambda i: PAGE, rate=over, duration=args.duration, pool=POOL),
                )
            )
            prober.join()
        rows.append(_row("/healthz beside it", 5.0, probe))
        print(
            f"knee of one process: {knee:.0f} req/s (uncached content page, p95 < {args.target:.0f} ms, none refused)"
        )
        print(f"machine load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
        print_table(rows, ["run", "rate", "ok", "ok p50", "ok p95", "503", "503 p95", "other"])
        at_twice, health = rows[-2], rows[-1]
        print(
            "targets at twice the knee: accepted p95 < 100 ms "
            f"{'met' if at_twice['ok p95'] < 100 else 'MISSED'}; refusals within 50 ms (p95) "
            f"{'met' if not at_twice['503'] or at_twice['503 p95'] < 50 else 'MISSED'}; /healthz answered "
            f"{'met' if health['ok'] and not health['503'] and not health['other'] else 'MISSED'}"
        )
