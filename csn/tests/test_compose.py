"""The production shape (compose.yaml): valid against the compose spec, a real proxy balancing two or
more web replicas with the websocket upgrade, every long-running service restarted when it exits.

No Docker engine runs in CI, so `docker compose config` cannot: the file is checked against the compose
specification's JSON schema (vendored by check-jsonschema), and the proxy's configuration is run by a
real nginx in front of a real daphne when nginx is installed."""

import asyncio
import json
import re
import urllib.request
from pathlib import Path

import pytest
import yaml

from bench.common import NGINX, nginx_proxy

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "compose.yaml"
ONE_SHOT = {"migrate"}


def _services() -> dict:
    return yaml.safe_load(COMPOSE.read_text())["services"]


def _interpolated(text: str) -> str:
    """Compose's `${NAME:-default}` with every variable unset, as `docker compose config` would."""
    return re.sub(r"\$\{[A-Z_]+:-([^}]*)\}", r"\1", text)


def test_compose_file_is_valid_against_the_compose_specification():
    import check_jsonschema  # requirements-dev.txt (it vendors the compose spec): never skipped
    import jsonschema

    schema_path = Path(check_jsonschema.__file__).parent / "builtin_schemas" / "vendor" / "compose-spec.json"
    schema = json.loads(schema_path.read_text())
    document = yaml.safe_load(_interpolated(COMPOSE.read_text()))

    validator = jsonschema.validators.validator_for(schema)(schema)  # the draft the schema names (2020-12)
    errors = sorted(validator.iter_errors(document), key=str)
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors)


def test_every_long_running_service_has_a_restart_policy():
    services = _services()

    assert {"postgres", "redis", "web", "worker", "beat", "proxy"} <= set(services)
    for name, service in services.items():
        expected = {"no"} if name in ONE_SHOT else {"unless-stopped", "always"}
        assert service.get("restart") in expected, (name, service.get("restart"))


def test_a_proxy_balances_two_or_more_web_replicas_and_metrics_stay_private():
    services = _services()
    web, proxy = services["web"], services["proxy"]

    assert web["deploy"]["replicas"] >= 2
    assert "ports" not in web and "ports" not in services["worker"]  # only the proxy is published
    assert proxy["ports"] and proxy["image"].startswith("nginx")
    mounted = {volume.split(":")[0] for volume in proxy["volumes"]}
    assert {"./deploy/nginx/nginx.conf", "./deploy/nginx/upstream.conf"} <= mounted
    assert all((ROOT / path).exists() for path in mounted)
    assert web["environment"]["CSN_NUM_PROXIES"] == "1"
    assert "server web:8000" in (ROOT / "deploy/nginx/upstream.conf").read_text()
    # SIGTERM drains over CSN_LIVE_DRAIN_SECONDS (20 s by default): compose must wait longer.
    assert int(web["stop_grace_period"].rstrip("s")) > 20


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_the_proxy_config_passes_http_and_the_websocket_upgrade_to_daphne(tmp_path):
    if NGINX is None:
        pytest.skip("nginx is not installed (apt-get install nginx)")
    from websockets.asyncio.client import connect

    from streaming.tests.servers import daphne_on_test_db

    with (
        daphne_on_test_db(1, {"CSN_METRICS_TOKEN": "a-token-of-twenty-chars-or-more"}) as (base,),
        nginx_proxy([base.removeprefix("http://")], tmp_path) as front,
    ):
        request = urllib.request.Request(front + "/healthz", headers={"X-Request-ID": "from-the-edge-1"})
        with urllib.request.urlopen(request, timeout=5) as response:
            assert response.status == 200
            assert response.headers["X-Request-ID"] == "from-the-edge-1"
        with urllib.request.urlopen(front + "/readyz", timeout=5) as response:
            assert response.headers["X-Request-ID"]  # the proxy made one
        metrics = urllib.request.Request(
            front + "/metrics", headers={"Authorization": "Bearer a-token-of-twenty-chars-or-more"}
        )
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(metrics, timeout=5)
        assert refused.value.code == 404  # never through the proxy, token or not

        async def ping():
            async with connect(front.replace("http", "ws") + "/ws/") as ws:
                assert json.loads(await asyncio.wait_for(ws.recv(), 10))["type"] == "hello"
                await ws.send(json.dumps({"type": "ping", "ref": 1}))
                return json.loads(await asyncio.wait_for(ws.recv(), 10))

        pong = asyncio.run(ping())
        assert (pong["type"], pong["ref"]) == ("pong", 1)
