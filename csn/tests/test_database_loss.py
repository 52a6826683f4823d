"""PostgreSQL ends every backend under load (a failover, a restart, an operator's pg_terminate_backend): a
real daphne process answers no 500. Requests that get a pooled connection afterwards get a fresh one (the
pool checks a connection before handing it out); a request whose connection dies under it answers 503
`database_unavailable`; chat over the socket goes on."""

import http.client
import json
import threading
import time
from collections import Counter
from urllib.parse import urlsplit

import psycopg
import pytest
from django.db import connection
from websockets.sync.client import connect

from accounts.services import token_issue
from streaming.tests.servers import daphne_on_test_db
from testing.factories import LiveGameFactory, UserFactory
from testing.faults import terminate_backends

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="ends PostgreSQL backends"),
]


class Load:
    """Threads requesting an endpoint that reads the database (token sign-in, the profile), recording
    every status."""

    def __init__(self, base: str, token: str, threads: int = 6):
        self.address = urlsplit(base)
        self.headers = {"Authorization": f"Token {token}"}
        self.statuses: Counter = Counter()
        self.errors: list[str] = []
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self._run, daemon=True) for _ in range(threads)]

    def get(self) -> int:
        conn = http.client.HTTPConnection(self.address.hostname, self.address.port, timeout=10)
        try:
            conn.request("GET", "/api/v1/me/", headers=self.headers)
            response = conn.getresponse()
            body = response.read()
            if response.status >= 500:
                self.errors.append(f"{response.status} {body[:200]!r}")
            return response.status
        finally:
            conn.close()

    def _run(self):
        while not self.stop.is_set():
            self.statuses[self.get()] += 1

    def __enter__(self):
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for thread in self.threads:
            thread.join(15)


def test_connections_ended_while_idle_in_the_pool_are_replaced_as_they_are_handed_out():
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        ended_pid = cursor.fetchone()[0]
    connection.close()  # back to the pool, idle like the pool's other connections
    params = connection.settings_dict
    with psycopg.connect(
        host=params["HOST"], port=params["PORT"], user=params["USER"], dbname=params["NAME"], autocommit=True
    ) as other:
        others = "FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        assert other.execute(f"SELECT count(pg_terminate_backend(pid)) {others}").fetchone()[0] >= 1
        deadline = time.monotonic() + 5
        while other.execute(f"SELECT 1 {others}").fetchone() and time.monotonic() < deadline:
            time.sleep(0.01)

    with connection.cursor() as cursor:  # no OperationalError: a live connection
        cursor.execute("SELECT pg_backend_pid()")
        assert cursor.fetchone()[0] != ended_pid


@pytest.mark.slow
def test_no_500_when_postgresql_ends_every_backend_under_load():
    game = LiveGameFactory()
    token = token_issue(user=UserFactory()).key

    with daphne_on_test_db() as (base,):
        with Load(base, token) as load:
            time.sleep(1)  # the pool holds a connection per busy thread
            ended = 0
            for _ in range(3):
                ended += terminate_backends()
                time.sleep(0.7)
        assert ended >= 3
        assert load.statuses[200] > 50, load.statuses
        # A request whose connection was ended mid-query may answer 503; nothing answers 500.
        assert set(load.statuses) <= {200, 503}, (load.statuses, load.errors[:5])

        # Every pooled connection is dead now; the next requests get fresh ones.
        assert terminate_backends() >= 1
        assert [load.get() for _ in range(20)] == [200] * 20, load.errors[:5]

        with connect(base.replace("http", "ws") + "/ws/", open_timeout=10) as ws:
            assert json.loads(ws.recv(timeout=10))["type"] == "hello"

            def request(message):
                ws.send(json.dumps(message))
                return json.loads(ws.recv(timeout=10))

            assert request({"type": "auth", "token": token})["type"] == "ack"
            assert terminate_backends() >= 1  # the socket's database thread had a pooled connection
            for n in range(3):
                reply = request({"type": "chat.send", "game": game.pk, "text": f"still here {n}"})
                assert reply["type"] == "ack", reply
