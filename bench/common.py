"""Shared pieces of the benchmarks: a daphne server to measure, percentiles, printing."""

import os
import socket
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

from bench.http import fixed_rate

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def daphne_server(env: dict | None = None, port: int | None = None):
    """Run the project under daphne (bin/serve) on a free port; yields the base URL."""
    port = port or free_port()
    full_env = {**os.environ, **(env or {}), "CSN_PORT": str(port), "PYTHON": sys.executable, "DEBUG": "0"}
    proc = subprocess.Popen([str(ROOT / "bin" / "serve")], cwd=ROOT, env=full_env, stdout=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(base + "/healthz", timeout=1).read()
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError("daphne did not start") from None
                time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def summary(values_ms: list[float]) -> dict:
    return {"p50": percentile(values_ms, 50), "p95": percentile(values_ms, 95), "p99": percentile(values_ms, 99)}


def print_table(rows: list[dict], columns: list[str]) -> None:
    widths = {c: max(len(c), *(len(_fmt(r.get(c))) for r in rows)) for c in columns}
    print("  ".join(c.ljust(widths[c]) for c in columns))
    for row in rows:
        print("  ".join(_fmt(row.get(c)).ljust(widths[c]) for c in columns))


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:.2f}"
    return "" if value is None else str(value)


@contextmanager
def postgres_admin(url: str):
    """An autocommit connection to the `postgres` database of the server `url` points at, for
    creating and dropping throw-away benchmark databases."""
    from urllib.parse import urlsplit

    import psycopg

    parts = urlsplit(url)
    conn = psycopg.connect(
        host=parts.hostname,
        port=parts.port or 5432,
        user=parts.username,
        password=parts.password or None,
        dbname="postgres",
        autocommit=True,
    )
    try:
        yield conn
    finally:
        conn.close()


def database_name(url: str) -> str:
    """The database a PostgreSQL URL names, checked to be a plain identifier (it goes into DDL)."""
    import re
    from urllib.parse import urlsplit

    name = urlsplit(url).path.lstrip("/")
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
        raise SystemExit(f"bad database name {name!r}")
    return name


def server_pid(base: str) -> int | None:
    """daphne's process id, found by the port it was started with (bin/serve execs it)."""
    port = base.rsplit(":", 1)[1]
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                cmdline = Path(f"/proc/{entry}/cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if b"daphne" in b" ".join(cmdline) and port.encode() in cmdline:
                return int(entry)
    return None


def cpu_seconds(pid: int | None) -> float:
    """User + system CPU time of a process so far (Linux /proc), or NaN when unknown."""
    if pid is None:
        return float("nan")
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def split_load(bases: list[str], make, rate: float, duration: float) -> tuple[list[float], dict]:
    """Fixed-rate load split evenly over the servers (each its own open-loop generator thread)."""
    if len(bases) == 1:
        return fixed_rate(bases[0], make, rate=rate, duration=duration)
    with ThreadPoolExecutor(len(bases)) as pool:
        runs = list(pool.map(lambda base: fixed_rate(base, make, rate=rate / len(bases), duration=duration), bases))
    latencies, errors = [], {}
    for run_latencies, run_errors in runs:
        latencies += run_latencies
        for key, count in run_errors.items():
            errors[key] = errors.get(key, 0) + count
    return latencies, errors
