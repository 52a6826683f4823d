"""Nothing is lost when Redis, PostHog or a worker fails, and no request waits on PostHog."""

import os
import signal
import subprocess
import sys
import threading
import time
from contextlib import contextmanager, suppress
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings as django_settings
from django.db import connection, connections
from django.test import override_settings

from analytics import tasks
from analytics.models import OutboxEvent
from analytics.services import delivery, intake, scheduling, senders
from analytics.tests.conftest import TEST_KEY
from bench.common import free_port
from csn.celery import app as celery_app
from testing.factories import OutboxEventFactory

URL = "/api/v1/analytics/events/"
ROOT = Path(__file__).resolve().parents[2]
PAUSE = {"name": "video_pause", "properties": {"video_id": 3, "position_seconds": 1.5}}


@contextmanager
def redis_down(settings):
    """Broker and cache pointed at a closed port, as when Redis is down."""
    dead = f"redis://127.0.0.1:{free_port()}/0"
    conf = celery_app.conf
    saved = conf.broker_url, conf.task_always_eager
    settings.CELERY_TASK_ALWAYS_EAGER = False

    def reset_pools():  # Celery caches broker connections per URL
        celery_app._pool = None
        celery_app.amqp._producer_pool = None

    conf.broker_url, conf.task_always_eager = dead, False
    reset_pools()
    try:
        with override_settings(
            CACHES={"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": dead}}
        ):
            yield
    finally:
        conf.broker_url, conf.task_always_eager = saved
        reset_pools()


@contextmanager
def tcp_connections():
    """Record every TCP connection opened meanwhile as (thread id, port) (a Python audit hook)."""
    seen: list[tuple[int, int]] = []
    state = {"on": True}

    def hook(event, args):
        if state["on"] and event == "socket.connect":
            address = args[1]
            if isinstance(address, tuple) and len(address) >= 2:
                seen.append((threading.get_ident(), address[1]))

    sys.addaudithook(hook)  # hooks cannot be removed; this one switches itself off
    try:
        yield seen
    finally:
        state["on"] = False


@pytest.mark.django_db
def test_redis_down_at_request_time_the_request_succeeds_and_a_later_sweep_delivers(
    auth_client, user, posthog_settings, fake_posthog, settings, django_capture_on_commit_callbacks, caplog
):
    OutboxEvent.objects.all().delete()
    with redis_down(settings), django_capture_on_commit_callbacks(execute=True):
        response = auth_client.post(URL, {"events": [PAUSE, PAUSE]}, format="json")

    assert response.status_code == 202
    assert "could not queue delivery" in caplog.text
    rows = list(OutboxEvent.objects.all())
    assert len(rows) == 2 and not fake_posthog.events  # kept, not sent

    # Redis is back: the beat sweep runs the task, which delivers what the request left behind.
    tasks.deliver_outbox.apply()

    assert set(fake_posthog.events) == {str(r.uuid) for r in rows}
    assert not OutboxEvent.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_no_request_waits_on_posthog(user, posthog_settings, fake_posthog, settings, monkeypatch):
    """Even with PostHog hanging, the intake answers; the event is sent from elsewhere (a worker, or
    without a broker a background thread), never from the request's thread."""
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(user=user)
    OutboxEvent.objects.all().delete()
    fake_posthog.hold = threading.Event()  # PostHog accepts but never answers until released
    port = int(fake_posthog.url.rsplit(":", 1)[1])
    if django_settings.REDIS_URL:
        import redis

        redis.Redis.from_url(django_settings.REDIS_URL).flushdb()
        # Creating the user queued a delivery that flushdb just dropped; forget it too.
        monkeypatch.setattr(scheduling, "_quiet_until", float("-inf"))

    allowed = {int(connection.settings_dict.get("PORT") or 5432)} if connection.vendor == "postgresql" else set()
    if django_settings.REDIS_URL:
        allowed.add(urlsplit(django_settings.REDIS_URL).port or 6379)

    with tcp_connections() as opened:
        response = client.post(URL, {"events": [PAUSE]}, format="json")
        assert response.status_code == 202
        from_request = {port for thread, port in opened if thread == threading.get_ident()}
        # The request talks to the database (and Redis: throttle, delivery ask), never to PostHog.
        assert from_request <= allowed, from_request
        fake_posthog.hold.set()
        if settings.CELERY_TASK_ALWAYS_EAGER:  # no broker: a background thread sends it
            assert fake_posthog.received.wait(10)
        else:  # a worker would: the delivery task is queued in Redis; run it as a worker does
            import redis

            assert redis.Redis.from_url(django_settings.REDIS_URL).llen("celery") >= 1
            tasks.deliver_outbox.apply()
        assert port in {p for _, p in opened}  # the hook does see the connection to PostHog
    deadline = time.monotonic() + 10
    while OutboxEvent.objects.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(fake_posthog.events) == 1
    assert not OutboxEvent.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_two_relays_at_once_never_send_the_same_row_twice(posthog_settings, fake_posthog, tmp_path):
    fake_posthog.delay = 0.02  # each send takes a while, so the relays overlap
    if connection.vendor == "postgresql":
        uuids, sent = _two_relays_in_threads()
        assert all(sent), sent  # both relays worked, on different rows (SKIP LOCKED)
    else:
        # The in-memory SQLite test database (shared cache) fails a busy table at once instead of
        # waiting like the file database the embedded default uses: there, two relay processes.
        uuids, sent = _two_relay_processes_on_a_sqlite_file(tmp_path, fake_posthog.url)
    assert sum(sent) == 120
    assert set(fake_posthog.events) == uuids
    assert max(fake_posthog.arrivals.values()) == 1


def _two_relays_in_threads():
    uuids = {str(OutboxEventFactory(properties={"path": f"/{i}"}).uuid) for i in range(120)}
    sent, errors = [], []

    def relay():
        try:
            sent.append(delivery.outbox_deliver(batch_size=10).sent)
        except Exception as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=relay) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    return uuids, sent


SQLITE_RELAY = """
import sys
import django
django.setup()
from django.core.management import call_command
from django.utils import timezone
from analytics.models import OutboxEvent
from analytics.services import delivery
if sys.argv[1] == "fill":
    call_command("migrate", verbosity=0)
    now = timezone.now()
    OutboxEvent.objects.bulk_create(
        OutboxEvent(name="page_view", distinct_id="1", properties={"path": f"/{i}"}, timestamp=now, next_attempt_at=now)
        for i in range(120)
    )
    print(" ".join(str(u) for u in OutboxEvent.objects.values_list("uuid", flat=True)))
else:
    print(delivery.outbox_deliver(batch_size=10).sent)
"""


def _two_relay_processes_on_a_sqlite_file(tmp_path: Path, fake_url: str):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "csn.settings",
        "CSN_VAR_DIR": str(tmp_path),
        "DATABASE_URL": "",
        "REDIS_URL": "",
        "POSTHOG_API_KEY": TEST_KEY,
        "POSTHOG_HOST": fake_url,
    }
    run = [sys.executable, "-c", SQLITE_RELAY]
    filled = subprocess.run([*run, "fill"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert filled.returncode == 0, filled.stderr
    relays = [
        subprocess.Popen([*run, "relay"], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outputs = [relay.communicate(timeout=120) for relay in relays]
    assert all(relay.returncode == 0 for relay in relays), [err for _, err in outputs]
    return set(filled.stdout.split()), [int(out.split()[-1]) for out, _ in outputs]


class KilledMidBatch(BaseException):
    """Stands in for SIGKILL inside the process: nothing after it runs, the transaction is lost."""


def _worker_env(fake_url: str) -> dict:
    db = connection.settings_dict
    return {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "REDIS_URL": django_settings.REDIS_URL,
        "POSTHOG_API_KEY": TEST_KEY,
        "POSTHOG_HOST": fake_url,
        "CSN_ANALYTICS_BATCH_SIZE": "20",
        "CSN_ANALYTICS_SWEEP_SECONDS": "1",
    }


def _start_worker(env: dict, tmp_path: Path, *, beat: bool) -> subprocess.Popen:
    celery = Path(sys.executable).with_name("celery")
    command = [str(celery), "-A", "csn", "worker", "--pool=solo", "--loglevel=WARNING"]
    if beat:
        command += ["-B", "-s", str(tmp_path / "beat-schedule")]
    log = open(tmp_path / "worker.log", "ab")  # noqa: SIM115 - closed with the process
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=log, start_new_session=True)


def _kill(proc: subprocess.Popen) -> None:
    with suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)  # the worker and its embedded beat
    proc.wait(10)


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_worker_killed_mid_batch_everything_arrives_after_restart(posthog_settings, fake_posthog, tmp_path):
    rows = [OutboxEventFactory(properties={"path": f"/{i}"}) for i in range(60)]
    uuids = {str(r.uuid) for r in rows}
    fake_posthog.hold = threading.Event()  # the first batch is recorded, then its answer hangs

    if connection.vendor == "postgresql" and django_settings.REDIS_URL:
        import redis

        redis.Redis.from_url(django_settings.REDIS_URL).flushdb()  # no stale tasks from earlier runs
        env = _worker_env(fake_posthog.url)
        # Rows written without a delivery ask: only the beat sweep can start this worker's run.
        worker = _start_worker(env, tmp_path, beat=True)
        try:
            assert fake_posthog.received.wait(60), (tmp_path / "worker.log").read_text()
            _kill(worker)  # SIGKILL in the middle of a batch PostHog already has
        finally:
            if worker.poll() is None:
                _kill(worker)
        fake_posthog.hold.set()
        fake_posthog.hold = None
        assert OutboxEvent.objects.count() == 60  # the killed batch was not deleted

        # Restarted without beat: the delivery asked for after the next commit drains everything due.
        worker = _start_worker(env, tmp_path, beat=False)
        try:
            uuids.add(
                str(intake.server_event_record(name="signed_up", distinct_id="1", properties={"method": "email"}).uuid)
            )
            deadline = time.monotonic() + 60
            while OutboxEvent.objects.exists() and time.monotonic() < deadline:
                time.sleep(0.2)
        finally:
            _kill(worker)
    else:
        # Embedded default (no broker, SQLite): the same delivery loop, in-process, dies after
        # PostHog received its first batch and before anything was committed.
        sender = senders.default_sender()

        class DyingSender:
            def send(self, messages):
                sender.send(messages)
                raise KilledMidBatch

        fake_posthog.hold = None
        with pytest.raises(KilledMidBatch):
            delivery.outbox_deliver(sender=DyingSender(), batch_size=20)
        assert OutboxEvent.objects.count() == 60
        # The next commit asks for a delivery; without a broker a background thread drains everything.
        uuids.add(
            str(intake.server_event_record(name="signed_up", distinct_id="1", properties={"method": "email"}).uuid)
        )
        deadline = time.monotonic() + 30
        while OutboxEvent.objects.exists() and time.monotonic() < deadline:
            time.sleep(0.05)

    assert not OutboxEvent.objects.exists()
    assert set(fake_posthog.events) == uuids  # everything arrived, nothing else did
    assert set(fake_posthog.arrivals) == uuids
    assert sorted(fake_posthog.arrivals.values()).count(2) == 20  # the killed batch, re-sent with the same uuids
