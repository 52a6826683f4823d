"""Several hosts on one machine: the proxy, two web hosts, Redis and PostgreSQL each in a network
namespace of its own (veth pairs on one bridge), and a client host. Clients follow a game through the
proxy while events are published; one web host's link is cut mid-stream; its clients notice (websocket
pings), reconnect through the proxy (which moves on to the other web host) and resume with `since`.
Prints what every client received: nothing may be lost.

    python -m bench netns [--clients=20] [--events=120]      (root, `ip netns`, nginx, PostgreSQL 15)

The namespaces and the addresses in them (10.213.<run>.0/24) are this run's own and are removed at
the end; nothing is added to the machine's own network namespace.
"""

import asyncio
import contextlib
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench.common import NGINX, ROOT, nginx_command, nginx_config

HOSTS = {"client": 2, "proxy": 3, "redis": 4, "pg": 5, "web1": 11, "web2": 12}
PG_BIN = next(iter(sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)), None)


def unavailable() -> str | None:
    """Why this cannot run here, or None."""
    if os.geteuid() != 0:
        return "network namespaces need root"
    if NGINX is None:
        return "nginx is not installed"
    if PG_BIN is None or not (PG_BIN / "initdb").exists():
        return "PostgreSQL's server binaries (initdb) are not installed"
    if shutil.which("redis-server") is None:
        return "redis-server is not installed"
    probe = f"csnprobe{os.getpid()}"
    if subprocess.run(["ip", "netns", "add", probe], capture_output=True).returncode != 0:
        return "`ip netns add` is not permitted here"
    subprocess.run(["ip", "netns", "del", probe], capture_output=True)
    return None


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True)


class Topology:
    def __init__(self):
        self.run = os.getpid() % 200 + 20
        self.prefix = f"csn{self.run}"
        self.net = f"10.213.{self.run}"
        self.switch = f"{self.prefix}-sw"

    def ns(self, host: str) -> str:
        return f"{self.prefix}-{host}"

    def addr(self, host: str) -> str:
        return f"{self.net}.{HOSTS[host]}"

    def link(self, host: str) -> str:
        return f"{self.prefix}s{HOSTS[host]}"  # the switch's end of the host's cable

    def up(self) -> None:
        _ip("netns", "add", self.switch)
        _ip("-n", self.switch, "link", "add", "br0", "type", "bridge")
        _ip("-n", self.switch, "link", "set", "br0", "up")
        for host in HOSTS:
            ns = self.ns(host)
            _ip("netns", "add", ns)
            _ip(
                "link",
                "add",
                "eth0",
                "netns",
                ns,
                "type",
                "veth",
                "peer",
                "name",
                self.link(host),
                "netns",
                self.switch,
            )
            _ip("-n", ns, "addr", "add", f"{self.addr(host)}/24", "dev", "eth0")
            _ip("-n", ns, "link", "set", "eth0", "up")
            _ip("-n", ns, "link", "set", "lo", "up")
            _ip("-n", self.switch, "link", "set", self.link(host), "master", "br0")
            _ip("-n", self.switch, "link", "set", self.link(host), "up")

    def down(self) -> None:
        for name in [*(self.ns(host) for host in HOSTS), self.switch]:
            subprocess.run(["ip", "netns", "del", name], capture_output=True)

    def cut(self, host: str) -> None:
        _ip("-n", self.switch, "link", "set", self.link(host), "down")

    def exec(self, host: str) -> list[str]:
        return ["ip", "netns", "exec", self.ns(host)]


def _wait(check, what: str, timeout: float = 60, log: Path | None = None) -> None:
    deadline = time.monotonic() + timeout
    while subprocess.run(check, capture_output=True).returncode != 0:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not start" + (f": {log.read_text()[-2000:]}" if log else ""))
        time.sleep(0.3)


def run(clients: int = 20, events: int = 120) -> dict:
    """Set up the hosts, run the clients (in the client host), tear everything down; their result."""
    topo = Topology()
    procs: list[subprocess.Popen] = []
    folder = Path(tempfile.mkdtemp(prefix="csn-netns-"))
    folder.chmod(0o755)
    try:
        topo.up()
        # PostgreSQL: a fresh cluster in its own host, trusting the test network.
        data = folder / "pg"
        data.mkdir()
        shutil.chown(data, "postgres")
        subprocess.run(
            [
                "runuser",
                "-u",
                "postgres",
                "--",
                str(PG_BIN / "initdb"),
                "-D",
                str(data),
                "--auth=trust",
                "-U",
                "postgres",
            ],
            check=True,
            capture_output=True,
        )
        with open(data / "pg_hba.conf", "a") as hba:
            hba.write(f"host all all {topo.net}.0/24 trust\n")
        procs.append(
            subprocess.Popen(
                [
                    *topo.exec("pg"),
                    "runuser",
                    "-u",
                    "postgres",
                    "--",
                    str(PG_BIN / "postgres"),
                    "-D",
                    str(data),
                    "-c",
                    f"listen_addresses={topo.addr('pg')}",
                    "-c",
                    f"unix_socket_directories={data}",
                    "-c",
                    "fsync=off",
                    "-c",
                    "synchronous_commit=off",
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        procs.append(
            subprocess.Popen(
                [
                    *topo.exec("redis"),
                    "redis-server",
                    "--bind",
                    topo.addr("redis"),
                    "--port",
                    "6379",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--protected-mode",
                    "no",
                ],
                stdout=subprocess.DEVNULL,
            )
        )
        _wait([*topo.exec("client"), str(PG_BIN / "pg_isready"), "-h", topo.addr("pg")], "PostgreSQL")
        subprocess.run(
            [*topo.exec("client"), str(PG_BIN / "createdb"), "-h", topo.addr("pg"), "-U", "postgres", "csn"],
            check=True,
            capture_output=True,
        )
        env = {
            **os.environ,
            "DATABASE_URL": f"postgres://postgres@{topo.addr('pg')}:5432/csn",
            "REDIS_URL": f"redis://{topo.addr('redis')}:6379/0",
            "CSN_VAR_DIR": str(folder),
            "ALLOWED_HOSTS": ",".join(topo.addr(host) for host in HOSTS),
            "DJANGO_SETTINGS_MODULE": "csn.settings",
            "LOG_LEVEL": "WARNING",
            "DEBUG": "0",
            "PYTHON": sys.executable,
        }
        subprocess.run(
            [*topo.exec("client"), sys.executable, "manage.py", "migrate", "--noinput"],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
        )
        for host in ("web1", "web2"):
            web_env = {**env, "CSN_HOST": "0.0.0.0", "CSN_PORT": "8000", "CSN_NUM_PROXIES": "1"}
            procs.append(
                subprocess.Popen(
                    [*topo.exec(host), str(ROOT / "bin" / "serve")],
                    cwd=ROOT,
                    env=web_env,
                    stdout=subprocess.DEVNULL,
                    stderr=open(folder / f"{host}.log", "w"),  # noqa: SIM115 (closed with the process)
                )
            )
        upstreams = [f"{topo.addr(host)}:8000" for host in ("web1", "web2")]
        conf = nginx_config(folder / "nginx", f"{topo.addr('proxy')}:8080", upstreams)
        procs.append(
            subprocess.Popen(
                [*topo.exec("proxy"), *nginx_command(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
        )
        for host in ("web1", "web2"):
            url = f"http://{topo.addr(host)}:8000/healthz"
            _wait(
                [
                    *topo.exec("client"),
                    sys.executable,
                    "-c",
                    f"import urllib.request; urllib.request.urlopen({url!r}, timeout=1)",
                ],
                host,
                log=folder / f"{host}.log",
            )
        front = f"ws://{topo.addr('proxy')}:8080/ws/"
        args = [front, str(clients), str(events), topo.switch, topo.link("web1")]
        result = subprocess.run(
            [*topo.exec("client"), sys.executable, "-m", "bench.netns", "client", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=240,
        )
        if result.returncode != 0:
            raise RuntimeError(result.stderr[-3000:])
        return json.loads(result.stdout.strip().splitlines()[-1])
    finally:
        for proc in reversed(procs):
            proc.terminate()
        for proc in reversed(procs):
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
        topo.down()
        shutil.rmtree(folder, ignore_errors=True)


# --- the client host ---------------------------------------------------------------------------------
async def _follow(url: str, topic: str, final: dict, log: dict) -> None:
    from websockets.asyncio.client import connect

    since = None
    while True:
        try:
            async with connect(url, ping_interval=1, ping_timeout=2, open_timeout=10) as ws:
                subscribe = {"type": "subscribe", "topic": topic, **({"since": since} if since is not None else {})}
                await ws.send(json.dumps(subscribe))
                while True:
                    try:
                        frame = json.loads(await asyncio.wait_for(ws.recv(), 1.0))
                    except TimeoutError:
                        frame = {"type": "batch", "events": []}
                    for message in frame["events"] if frame["type"] == "batch" else [frame]:
                        if message["type"] == "snapshot":
                            if since is not None:
                                log["resets"] += 1
                            log.setdefault("start", message["seq"])
                            since = message["seq"]
                        elif message["type"] == "event" and message["seq"] > since:
                            if message["seq"] != since + 1:
                                log["gaps"] += 1
                            since = message["seq"]
                            log["seqs"].append(since)
                    if log["seqs"] and log["seqs"][-1] >= final["seq"]:
                        return
        except Exception:  # the link is cut (ping timeout), the proxy refused, a server went away
            log["reconnects"] += 1
            await asyncio.sleep(random.uniform(0, 0.5))


def client(front: str, clients: int, events: int, switch: str, link: str) -> dict:
    import django

    django.setup()
    from django.db import connection, transaction
    from django.utils import timezone

    from content.models import Game, Team
    from csn.realtime.log import current_seq
    from csn.realtime.publish import publish

    home = Team.objects.create(name="Home", slug="netns-home", sport="basketball")
    away = Team.objects.create(name="Away", slug="netns-away", sport="basketball")
    game = Game.objects.create(
        home_team=home, away_team=away, sport="basketball", starts_at=timezone.now(), status="live"
    )
    topic = f"game:{game.pk}"
    final = {"seq": 2**63}
    logs = [{"seqs": [], "gaps": 0, "resets": 0, "reconnects": 0} for _ in range(clients)]

    def publisher():
        for n in range(events):
            with transaction.atomic():
                publish(topic=topic, name="game.event", data={"n": n})
            if n == events // 3:
                subprocess.run(["ip", "-n", switch, "link", "set", link, "down"], check=True)
            time.sleep(0.05)
        final["seq"] = current_seq(topic)
        connection.close()

    async def scenario():
        followers = [asyncio.ensure_future(_follow(front, topic, final, log)) for log in logs]
        await asyncio.sleep(2)
        thread = threading.Thread(target=publisher)
        thread.start()
        await asyncio.to_thread(thread.join)
        await asyncio.wait_for(asyncio.gather(*followers), 120)

    started = time.monotonic()
    asyncio.run(scenario())
    lost = sum(len(set(range(log["start"] + 1, final["seq"] + 1)) - set(log["seqs"])) for log in logs)
    return {
        "clients": clients,
        "events": events,
        "reconnected clients": sum(1 for log in logs if log["reconnects"]),
        "lost": lost,
        "duplicates": sum(len(log["seqs"]) - len(set(log["seqs"])) for log in logs),
        "gaps seen": sum(log["gaps"] for log in logs),
        "snapshot resets": sum(log["resets"] for log in logs),
        "seconds": round(time.monotonic() - started, 1),
    }


def main(argv: list[str]) -> None:
    if argv[:1] == ["client"]:
        front, clients, events, switch, link = argv[1:6]
        print(json.dumps(client(front, int(clients), int(events), switch, link)))
        return
    reason = unavailable()
    if reason:
        print(f"netns: not run ({reason})")
        return
    clients = next((int(a.split("=", 1)[1]) for a in argv if a.startswith("--clients=")), 20)
    events = next((int(a.split("=", 1)[1]) for a in argv if a.startswith("--events=")), 120)
    result = run(clients, events)
    print(json.dumps(result, indent=2))
    print(f"target no event lost after a web host's link is cut: {'met' if result['lost'] == 0 else 'MISSED'}")


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        main(sys.argv[1:])
