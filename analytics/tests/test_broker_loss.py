"""A Celery worker outlives Redis restarts: delivery resumes by itself (the production shape: a real
`celery -A csn worker` with its prefork pool, beat sweeping, a Redis of the test's own that it restarts,
and an HTTP stand-in for PostHog)."""

import os
import shutil
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

from analytics.models import OutboxEvent
from analytics.tests.conftest import TEST_KEY
from analytics.tests.test_resilience import _kill
from bench.common import free_port
from streaming.tests.servers import subprocess_database_url
from testing.factories import OutboxEventFactory

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server"),
]


class OwnRedis:
    """A redis-server of the test's own on a free port, without persistence (a restart empties it)."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.port = free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.folder)]
        command += ["--save", "", "--appendonly", "no"]
        self.proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        import redis

        deadline = time.monotonic() + 10
        while True:
            try:
                redis.Redis.from_url(self.url, socket_connect_timeout=0.5).ping()
                return
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.kill()  # a crash, not a clean shutdown
            self.proc.wait(10)
            self.proc = None


@contextmanager
def own_redis(folder: Path):
    server = OwnRedis(folder)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _start_worker(redis_url: str, fake_url: str, log_path: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": subprocess_database_url(),
        "REDIS_URL": redis_url,
        "POSTHOG_API_KEY": TEST_KEY,
        "POSTHOG_HOST": fake_url,
        "CSN_ANALYTICS_SWEEP_SECONDS": "1",
    }
    celery = Path(sys.executable).with_name("celery")
    # As compose runs it (prefork pool), with beat embedded so the sweep keeps asking for deliveries. Two
    # processes: while one runs a task the worker still waits on Redis for another (BRPOP).
    command = [str(celery), "-A", "csn", "worker", "--concurrency=2", "--loglevel=INFO"]
    command += ["-B", "-s", str(log_path.with_name("beat-schedule"))]
    log = open(log_path, "ab")  # noqa: SIM115 - closed with the process
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=log, start_new_session=True)


def _wait_until_delivered(uuids: set[str], fake_posthog, worker: subprocess.Popen, log_path: Path) -> None:
    deadline = time.monotonic() + 20
    while not uuids <= set(fake_posthog.events) or OutboxEvent.objects.filter(uuid__in=uuids).exists():
        log = log_path.read_text()
        assert worker.poll() is None and "Unrecoverable error" not in log, "the worker exits:\n" + log[-4000:]
        assert time.monotonic() < deadline, "no delivery:\n" + log[-4000:]
        time.sleep(0.1)


@pytest.mark.django_db(transaction=True)
def test_the_worker_survives_redis_restarts_and_delivery_resumes(posthog_settings, fake_posthog, tmp_path):
    log_path = tmp_path / "worker.log"
    with own_redis(tmp_path) as redis_server:
        worker = _start_worker(redis_server.url, fake_posthog.url, log_path)
        try:
            for outage in range(2):
                # A delivery is under way (PostHog holds its answer: the task is not acked) while the worker
                # waits on Redis for more when Redis dies: then kombu 5.7.0 made the worker exit.
                fake_posthog.received.clear()
                fake_posthog.hold = threading.Event()
                held = {str(OutboxEventFactory(properties={"path": f"/{outage}"}).uuid)}
                assert fake_posthog.received.wait(20), log_path.read_text()[-4000:]
                redis_server.stop()
                time.sleep(1.5)  # the worker notices and retries against the closed port
                redis_server.start()
                fake_posthog.hold.set()
                fake_posthog.hold = None

                # Rows written after the restart are delivered by the same worker.
                later = {str(OutboxEventFactory(properties={"path": f"/{outage}/{i}"}).uuid) for i in range(3)}
                _wait_until_delivered(held | later, fake_posthog, worker, log_path)
            assert worker.poll() is None
            assert "Unrecoverable error" not in log_path.read_text()
        finally:
            _kill(worker)
