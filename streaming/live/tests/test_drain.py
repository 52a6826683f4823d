"""Graceful drain: SIGTERM to one of two daphne processes mid-stream; its sockets are told to reconnect,
come back (through the proxy when nginx is installed, else to the other process) and resume with
`since`: no event is lost and the drained process exits by itself."""

import asyncio
import json
import random
import signal
import threading
import time

import pytest
from django.conf import settings
from django.db import transaction

from bench.common import NGINX, daphne_process, nginx_proxy
from csn.realtime.publish import publish
from streaming.live.topics import game_topic
from streaming.tests.servers import subprocess_database_url
from testing.factories import LiveGameFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

CLIENTS = 6
EVENTS = 120
DRAIN_SECONDS = 2.0
JITTER_MS = 400


def _publisher(topic: str, stop: threading.Event, published: list[int]) -> None:
    from django.db import connection

    try:
        for n in range(EVENTS):
            with transaction.atomic():
                publish(topic=topic, name="game.event", data={"n": n})
            published.append(n)
            time.sleep(0.03)
    finally:
        stop.set()
        connection.close()


def _final_seq(topic: str) -> int:
    from django.db import connection

    from csn.realtime.log import current_seq

    try:
        return current_seq(topic)
    finally:
        connection.close()


async def _client(url_first: str, url_again: str, topic: str, final: dict, log: dict) -> None:
    """Follow `topic`; on `reconnect` wait the delay, connect to `url_again`, resume with `since`."""
    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosed

    seqs, url, since = log["seqs"], url_first, None
    while True:
        log.pop("reconnect", None)
        try:
            async with connect(url) as ws:
                subscribe = {"type": "subscribe", "topic": topic, "ref": "s"}
                if since is not None:
                    subscribe["since"] = since
                await ws.send(json.dumps(subscribe))
                while True:
                    try:
                        frame = json.loads(await asyncio.wait_for(ws.recv(), 1.0))
                    except TimeoutError:
                        frame = {"type": "batch", "events": []}
                    for message in frame["events"] if frame["type"] == "batch" else [frame]:
                        if message["type"] == "snapshot":
                            assert since is None, "resume fell back to a snapshot"
                            since = log["start"] = message["seq"]
                        elif message["type"] == "event" and message["seq"] > since:
                            assert message["seq"] == since + 1, (since, message["seq"])  # no gap
                            since = message["seq"]
                            seqs.append(since)
                        elif message["type"] == "reconnect":
                            log["reconnect"] = log["told"] = message
                    if seqs and seqs[-1] >= final["seq"]:
                        return
        except ConnectionClosed as closed:
            log["closed"] = closed.rcvd.code if closed.rcvd else None
        # Told to reconnect: after its delay. Closed before the message was read (4012 as the client
        # sent its subscribe), or cut (a proxy's connection to the drained process): after a random one.
        delay_ms = log["reconnect"]["delay_ms"] if "reconnect" in log else random.randint(0, JITTER_MS)
        log["reconnects"] = log.get("reconnects", 0) + 1
        await asyncio.sleep(delay_ms / 1000)
        url = url_again


def test_draining_one_of_two_processes_mid_stream_loses_no_event(tmp_path):
    if not settings.REDIS_URL:
        pytest.skip("two processes share events through Redis; the embedded default has no cross-process transport")
    game = LiveGameFactory()
    topic = game_topic(game.pk)
    env = {
        "DATABASE_URL": subprocess_database_url(),
        "LOG_LEVEL": "WARNING",
        "CSN_LIVE_DRAIN_SECONDS": str(DRAIN_SECONDS),
        "CSN_LIVE_RECONNECT_JITTER_MS": str(JITTER_MS),
    }
    with daphne_process(env) as draining, daphne_process(env) as staying:
        upstreams = [draining.base.removeprefix("http://"), staying.base.removeprefix("http://")]
        if NGINX:  # the proxy of compose.yaml: clients reconnect to the same address
            proxy = nginx_proxy(upstreams, tmp_path / "nginx")
            front = proxy.__enter__()
            url_first, url_again = draining.base.replace("http", "ws") + "/ws/", front.replace("http", "ws") + "/ws/"
        else:
            proxy = None
            url_first, url_again = (p.base.replace("http", "ws") + "/ws/" for p in (draining, staying))
        try:
            published: list[int] = []
            done = threading.Event()
            logs = [{"seqs": []} for _ in range(CLIENTS)]
            final = {"seq": 2**63}  # known once the publisher is done

            async def scenario():
                clients = [asyncio.create_task(_client(url_first, url_again, topic, final, log)) for log in logs]
                await asyncio.sleep(1.0)  # every client subscribed on the process to drain
                publisher = threading.Thread(target=_publisher, args=(topic, done, published))
                publisher.start()
                await asyncio.sleep(1.0)  # mid-stream
                draining.send_signal(signal.SIGTERM)
                signalled = time.monotonic()
                await asyncio.to_thread(publisher.join)
                final["seq"] = await asyncio.to_thread(_final_seq, topic)
                await asyncio.wait_for(asyncio.gather(*clients), 30)
                exit_code = await asyncio.to_thread(draining.wait, 15)
                return exit_code, time.monotonic() - signalled

            exit_code, _ = asyncio.run(scenario())
        finally:
            if proxy is not None:
                proxy.__exit__(None, None, None)

    assert len(published) == EVENTS
    assert exit_code == 0  # it ended by itself, cleanly
    for log in logs:
        assert log["told"]["type"] == "reconnect" and 0 <= log["told"]["delay_ms"] <= JITTER_MS
        assert log["reconnects"] >= 1
        assert log["closed"] == 4012  # service restart
        assert log["seqs"] == list(range(log["start"] + 1, final["seq"] + 1))  # every event, in order, once
