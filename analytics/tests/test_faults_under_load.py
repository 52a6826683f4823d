"""The production shape under faults, all at once: a daphne process taking app events, a Celery worker
(prefork, beat embedded) delivering them to a PostHog stand-in over HTTP, a Redis of the test's own that
is killed and restarted, and PostgreSQL ending every backend (daphne's and the worker's) twice, while
clients keep sending. Every event the API accepted (202) reaches PostHog, no request answers 500, and
the worker is still running at the end: nothing lost, nothing left stopped."""

import http.client
import json
import threading
import time
import uuid
from collections import Counter
from urllib.parse import urlsplit

import pytest
from django.db import connection

from accounts.services import token_issue
from analytics.models import OutboxEvent
from analytics.tests.conftest import TEST_KEY
from analytics.tests.test_broker_loss import _start_worker, own_redis
from analytics.tests.test_resilience import _kill
from bench.common import daphne_server
from streaming.tests.servers import subprocess_database_url
from testing.factories import UserFactory
from testing.faults import terminate_backends

pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="ends PostgreSQL backends"),
]


class EventSenders:
    """Threads posting batches of app events, keeping the uuid of every event the API accepted."""

    def __init__(self, base: str, token: str, threads: int = 3, batch: int = 5):
        self.address = urlsplit(base)
        self.headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}
        self.batch = batch
        self.accepted: set[str] = set()
        self.statuses: Counter = Counter()
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self._run, daemon=True) for _ in range(threads)]

    def _send(self) -> None:
        events = [
            {"name": "page_view", "properties": {"path": "/faults"}, "uuid": str(uuid.uuid4())}
            for _ in range(self.batch)
        ]
        conn = http.client.HTTPConnection(self.address.hostname, self.address.port, timeout=15)
        try:
            conn.request("POST", "/api/v1/analytics/events/", json.dumps({"events": events}), self.headers)
            response = conn.getresponse()
            body = response.read()
        except OSError:
            self.statuses["connection error"] += 1
            return
        finally:
            conn.close()
        self.statuses[response.status] += 1
        if response.status == 202:
            assert json.loads(body)["accepted"] == self.batch
            self.accepted.update(event["uuid"] for event in events)

    def _run(self) -> None:
        while not self.stop.is_set():
            self._send()
            time.sleep(0.02)

    def __enter__(self):
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for thread in self.threads:
            thread.join(20)


def test_events_accepted_through_redis_and_postgresql_faults_all_reach_posthog(fake_posthog, tmp_path):
    token = token_issue(user=UserFactory()).key
    log_path = tmp_path / "worker.log"
    with own_redis(tmp_path) as redis_server:
        env = {
            "DATABASE_URL": subprocess_database_url(),
            "REDIS_URL": redis_server.url,
            "POSTHOG_API_KEY": TEST_KEY,
            "POSTHOG_HOST": fake_posthog.url,
            "CSN_ANALYTICS_THROTTLE": "100000/min",
            "LOG_LEVEL": "WARNING",
        }
        worker = _start_worker(redis_server.url, fake_posthog.url, log_path)
        try:
            with daphne_server(env) as base, EventSenders(base, token) as senders:
                time.sleep(1.5)
                for _ in range(2):
                    assert terminate_backends() >= 1  # daphne's pooled connections and the worker's
                    time.sleep(1)
                redis_server.stop()  # the broker, the throttle's and the coalescing cache's Redis
                time.sleep(1.5)
                redis_server.start()
                time.sleep(2)

            assert senders.statuses[202] > 20, senders.statuses
            # A request whose database or broker went away under it may be refused (503); none is a 500.
            assert set(senders.statuses) <= {202, 503}, senders.statuses

            deadline = time.monotonic() + 60
            while not senders.accepted <= set(fake_posthog.events):
                log = log_path.read_text()
                assert worker.poll() is None and "Unrecoverable error" not in log, "the worker exits:\n" + log[-4000:]
                missing = len(senders.accepted - set(fake_posthog.events))
                assert time.monotonic() < deadline, f"{missing} accepted events never delivered:\n{log[-4000:]}"
                time.sleep(0.2)
            assert not OutboxEvent.objects.filter(uuid__in=senders.accepted).exists()
            assert worker.poll() is None
        finally:
            _kill(worker)
