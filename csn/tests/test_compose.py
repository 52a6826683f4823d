"""The production shape (compose.yaml) restarts every long-running service when it exits."""

from pathlib import Path

import yaml

COMPOSE = Path(__file__).resolve().parents[2] / "compose.yaml"
ONE_SHOT = {"migrate"}


def test_every_long_running_service_has_a_restart_policy():
    services = yaml.safe_load(COMPOSE.read_text())["services"]

    assert {"postgres", "redis", "web", "worker", "beat"} <= set(services)
    for name, service in services.items():
        expected = {"no"} if name in ONE_SHOT else {"unless-stopped", "always"}
        assert service.get("restart") in expected, (name, service.get("restart"))
