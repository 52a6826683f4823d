"""Shared pieces of the benchmarks: a daphne server to measure, percentiles, printing."""

import asyncio
import os
import shutil
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
    with daphne_process(env, port) as proc:
        yield proc.base


@contextmanager
def daphne_process(env: dict | None = None, port: int | None = None):
    """Run the project under daphne (bin/serve) on a free port; yields its Popen, with `.base` its URL."""
    port = port or free_port()
    # A short drain (SIGTERM ends it below): sockets a test left open do not hold the process for long.
    # No load shedding unless asked: a busy test machine lags, and tests count every event.
    defaults = {"CSN_LIVE_DRAIN_SECONDS": "1", "CSN_LIVE_SHED_LAG_SECONDS": "3600,3601,3602"}
    # `env` adds to this process's environment; a None value removes a variable (e.g. DATABASE_URL for SQLite).
    full_env = {name: value for name, value in {**defaults, **os.environ, **(env or {})}.items() if value is not None}
    full_env.update({"CSN_PORT": str(port), "PYTHON": sys.executable, "DEBUG": "0"})
    proc = subprocess.Popen([str(ROOT / "bin" / "serve")], cwd=ROOT, env=full_env, stdout=subprocess.DEVNULL)
    proc.base = f"http://127.0.0.1:{port}"
    with running(proc, proc.base + "/healthz", "daphne", 30):
        yield proc


@contextmanager
def running(proc: subprocess.Popen, health_url: str, what: str, timeout: float):
    """Wait until `health_url` answers (or fail if `proc` ends first); terminate `proc` at the end."""
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                urllib.request.urlopen(health_url, timeout=1).read()
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError(f"{what} did not start") from None
                time.sleep(0.1)
        yield proc
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
    """The server's process id, found by the port it was started with (bin/serve execs
    `python -m csn.serve`, daphne with a drain; plain `daphne` too)."""
    port = base.rsplit(":", 1)[1]
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                cmdline = Path(f"/proc/{entry}/cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            command = b" ".join(cmdline)
            if (b"daphne" in command or b"csn.serve" in command) and port.encode() in cmdline:
                return int(entry)
    return None


def errors_text(errors: dict) -> str:
    """An error count with its kinds, e.g. `67 (503: 60, 429: 7)`; `0` when none."""
    if not errors:
        return "0"
    kinds = ", ".join(f"{kind}: {count}" for kind, count in sorted(errors.items(), key=lambda kv: -kv[1]))
    return f"{sum(errors.values())} ({kinds})"


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


NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)


def nginx_config(workdir: Path, listen: str, upstreams: list[str]) -> Path:
    """deploy/nginx/nginx.conf listening on `listen` (host:port), balancing `upstreams` (host:port), written
    into `workdir` with its upstream.conf; returns the nginx.conf path."""
    workdir.mkdir(parents=True, exist_ok=True)
    conf = (ROOT / "deploy" / "nginx" / "nginx.conf").read_text().replace("listen 8080;", f"listen {listen};")
    (workdir / "nginx.conf").write_text(conf)
    servers = "".join(f"    server {upstream} max_fails=1 fail_timeout=5s;\n" for upstream in upstreams)
    (workdir / "upstream.conf").write_text(f"upstream csn_web {{\n{servers}    keepalive 32;\n}}\n")
    return workdir / "nginx.conf"


def nginx_command(conf: Path) -> list[str]:
    return [NGINX, "-p", str(conf.parent), "-c", str(conf), "-g", f"daemon off; pid {conf.parent}/nginx.pid;"]


@contextmanager
def nginx_proxy(upstreams: list[str], workdir: Path, port: int | None = None):
    """deploy/nginx/nginx.conf (the compose proxy) on a free port, balancing `upstreams` (host:port);
    yields its base URL. Needs nginx (Debian's `nginx`)."""
    if NGINX is None:
        raise RuntimeError("nginx is not installed")
    port = port or free_port()
    conf = nginx_config(workdir, f"127.0.0.1:{port}", upstreams)
    proc = subprocess.Popen(nginx_command(conf), stdout=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    with running(proc, base + "/healthz", "nginx", 10):
        yield base


async def open_followers(url: str, topics: list[str], count: int, batch: int = 50, **options) -> list:
    """`count` websockets to `url`, opened `batch` at a time, each subscribed to `topics` (its snapshots
    received): a list of (socket, {topic: snapshot seq})."""
    import json

    from websockets.asyncio.client import connect
    from websockets.exceptions import InvalidHandshake

    opened = []

    async def open_one():
        for attempt in range(5):  # a loaded machine drops the odd handshake: try again
            try:
                ws = await connect(url, max_size=None, max_queue=None, **{"open_timeout": 60, **options})
                break
            except (TimeoutError, OSError, InvalidHandshake):
                if attempt == 4:
                    raise
                await asyncio.sleep(0.5 * (attempt + 1))
        seqs = {}
        for topic in topics:
            await ws.send(json.dumps({"type": "subscribe", "topic": topic}))
            while (message := json.loads(await ws.recv()))["type"] != "snapshot":
                pass
            seqs[topic] = message["seq"]
        opened.append((ws, seqs))

    for offset in range(0, count, batch):
        await asyncio.gather(*(open_one() for _ in range(min(batch, count - offset))))
    return opened


def script_json(code: str, args: list, env: dict) -> dict:
    """Run `python -c code args` in the project with `env`; the JSON its last line of output prints."""
    import json

    result = subprocess.run(
        [sys.executable, "-c", code, *map(str, args)], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    )
    return json.loads(result.stdout.strip().splitlines()[-1])
