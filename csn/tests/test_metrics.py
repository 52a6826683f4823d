"""Prometheus metrics: never public, and scraped from a real daphne by prometheus_client's text parser."""

import asyncio
import json
import time
import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families
from websockets.asyncio.client import connect

from accounts.services import token_issue
from bench.common import free_port
from streaming.tests.servers import daphne_on_test_db
from testing.factories import LiveGameFactory, UserFactory

TOKEN = "metrics-token-for-the-test-0123456789"


def _samples(text: str) -> dict:
    """{(name, frozenset(labels)): value} of every sample, parsed as Prometheus parses it."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def _value(samples: dict, name: str, **labels) -> float | None:
    return samples.get((name, frozenset(labels.items())))


@pytest.mark.django_db
def test_metrics_on_the_main_port_need_the_token(client, settings):
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics").status_code == 404  # no token configured: no /metrics at all

    settings.METRICS_TOKEN = TOKEN
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong-token-wrong-token-0000").status_code == 404

    client.get("/healthz")
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    samples = _samples(response.content.decode())
    assert _value(samples, "csn_http_request_duration_seconds_count", route="/healthz", method="GET", status="200")


async def _request(ws, message: dict) -> dict:
    await ws.send(json.dumps(message))
    return json.loads(await asyncio.wait_for(ws.recv(), 10))


def _scrape(url: str) -> dict:
    return _samples(urllib.request.urlopen(url, timeout=5).read().decode())


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_daphne_process_exports_http_live_and_loop_metrics_on_its_metrics_port(tmp_path):
    game = LiveGameFactory()
    token = token_issue(user=UserFactory(), name="metrics test").key
    port = free_port()
    env = {"PROMETHEUS_MULTIPROC_DIR": str(tmp_path), "CSN_METRICS_PORT": str(port), "CSN_METRICS_ADDR": "127.0.0.1"}
    scrape_url = f"http://127.0.0.1:{port}/metrics"

    with daphne_on_test_db(1, env) as (base,):
        urllib.request.urlopen(f"{base}/api/v1/games/{game.pk}/", timeout=5).read()
        with pytest.raises(urllib.error.HTTPError):
            urllib.request.urlopen(f"{base}/metrics", timeout=5)  # not on the public port without the token

        async def scenario():
            async with connect(base.replace("http", "ws") + "/ws/") as ws:
                assert json.loads(await ws.recv())["type"] == "hello"
                assert (await _request(ws, {"type": "auth", "token": token}))["type"] == "ack"
                assert (await _request(ws, {"type": "subscribe", "topic": f"game:{game.pk}"}))["type"] == "snapshot"
                assert (await _request(ws, {"type": "subscribe", "topic": f"chat:{game.pk}"}))["type"] == "snapshot"
                await ws.send(json.dumps({"type": "chat.send", "game": game.pk, "text": "hello", "ref": "1"}))
                names = set()
                while not {"ack", "chat.message"} <= names:
                    message = json.loads(await asyncio.wait_for(ws.recv(), 10))
                    names.add(message.get("name") or message["type"])
                await asyncio.sleep(1.5)  # one pass of the per-second sampler
                return await asyncio.to_thread(_scrape, scrape_url)

        open_samples = asyncio.run(scenario())
        time.sleep(0.5)
        closed_samples = _scrape(scrape_url)

    assert _value(open_samples, "csn_live_sockets_open") == 1
    assert _value(open_samples, "csn_live_subscriptions", kind="game") == 1
    assert _value(open_samples, "csn_live_subscriptions", kind="chat") == 1
    assert _value(open_samples, "csn_live_fanout_lag_seconds_count", kind="chat") >= 1
    assert _value(open_samples, "csn_event_loop_lag_seconds") is not None
    assert _value(open_samples, "csn_live_shed_level") == 0
    assert _value(open_samples, "csn_live_hub_queue_frames", queue="queued") == 0
    assert any(name == "csn_db_pool_connections" for name, _ in open_samples)
    route = "/api/v1/games/<id:pk>/"
    assert _value(open_samples, "csn_http_request_duration_seconds_count", route=route, method="GET", status="200") == 1
    assert _value(closed_samples, "csn_live_sockets_open") == 0
    assert _value(closed_samples, "csn_live_subscriptions", kind="game") == 0


def test_the_grafana_dashboard_uses_only_metrics_the_code_exports():
    import re
    from pathlib import Path

    from prometheus_client import Counter, Histogram

    from csn import metrics

    dashboard = json.loads((Path(__file__).resolve().parents[2] / "deploy" / "grafana" / "csn.json").read_text())
    exported = set()
    for value in vars(metrics).values():
        if hasattr(value, "_name") and hasattr(value, "_type"):
            exported.add(value._name + ("_total" if isinstance(value, Counter) else ""))
            if isinstance(value, Histogram):
                exported |= {f"{value._name}_{suffix}" for suffix in ("bucket", "count", "sum")}
    used = {
        name
        for panel in dashboard["panels"]
        for target in panel["targets"]
        for name in re.findall(r"\b(csn_[a-z_]+)\b", target["expr"])
    }
    assert used and used <= exported, used - exported
    assert {"csn_live_fanout_lag_seconds_bucket", "csn_outbox_backlog", "csn_celery_tasks_total"} <= used


def test_the_pool_sampler_reports_connections_in_use_and_waits(monkeypatch):
    """psycopg_pool's stats (pop_stats: counters since the last pop) become the pool gauges and counters."""
    from django.db.backends.postgresql.base import DatabaseWrapper
    from prometheus_client import REGISTRY

    from csn import metrics

    class Pool:
        def pop_stats(self):
            return {
                "pool_size": 8,
                "pool_available": 3,
                "requests_waiting": 2,
                "requests_queued": 4,
                "requests_wait_ms": 1500,
            }

    monkeypatch.setattr(DatabaseWrapper, "_connection_pools", {"default": Pool(), "replica": Pool()})
    before = {
        name: REGISTRY.get_sample_value(name) or 0
        for name in ("csn_db_pool_waits_total", "csn_db_pool_wait_seconds_total")
    }

    metrics.db_pool_sample()

    assert REGISTRY.get_sample_value("csn_db_pool_connections", {"state": "in_use"}) == 10
    assert REGISTRY.get_sample_value("csn_db_pool_connections", {"state": "idle"}) == 6
    assert REGISTRY.get_sample_value("csn_db_pool_waiting") == 4
    assert REGISTRY.get_sample_value("csn_db_pool_waits_total") - before["csn_db_pool_waits_total"] == 8
    assert REGISTRY.get_sample_value("csn_db_pool_wait_seconds_total") - before[
        "csn_db_pool_wait_seconds_total"
    ] == pytest.approx(3.0)
