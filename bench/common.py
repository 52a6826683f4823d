"""Shared pieces of the benchmarks: a daphne server to measure, percentiles, printing."""

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

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
    full_env = {"CSN_LIVE_DRAIN_SECONDS": "1", **os.environ, **(env or {})}
    full_env.update({"CSN_PORT": str(port), "PYTHON": sys.executable, "DEBUG": "0"})
    proc = subprocess.Popen([str(ROOT / "bin" / "serve")], cwd=ROOT, env=full_env, stdout=subprocess.DEVNULL)
    base = proc.base = f"http://127.0.0.1:{port}"
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


NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)


@contextmanager
def nginx_proxy(upstreams: list[str], workdir: Path, port: int | None = None):
    """deploy/nginx/nginx.conf (the compose proxy) on a free port, balancing `upstreams` (host:port);
    yields its base URL. Needs nginx (Debian's `nginx`)."""
    if NGINX is None:
        raise RuntimeError("nginx is not installed")
    port = port or free_port()
    workdir.mkdir(parents=True, exist_ok=True)
    conf = (ROOT / "deploy" / "nginx" / "nginx.conf").read_text().replace("listen 8080;", f"listen 127.0.0.1:{port};")
    (workdir / "nginx.conf").write_text(conf)
    servers = "".join(f"    server {upstream} max_fails=1 fail_timeout=5s;\n" for upstream in upstreams)
    (workdir / "upstream.conf").write_text(f"upstream csn_web {{\n{servers}    keepalive 32;\n}}\n")
    proc = subprocess.Popen(
        [NGINX, "-p", str(workdir), "-c", str(workdir / "nginx.conf"), "-g", f"daemon off; pid {workdir}/nginx.pid;"],
        stdout=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                urllib.request.urlopen(base + "/healthz", timeout=1).read()
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError("nginx did not start") from None
                time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
