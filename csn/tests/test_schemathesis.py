"""Schemathesis against a real daphne on the test database: the served schema (/api/schema/), its
coverage, fuzzing and stateful phases, signed in as a viewer and as staff. Fails on any 5xx and on any
response the schema does not describe (status code, content type, headers, body), and on an error code
the operation does not list in its `x-error-codes` (our own check, schemathesis_hooks.py).

Time-boxed: `MAX_SECONDS` per identity (schemathesis' --max-time; its fuzzing repeats until spent).
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from accounts.services import token_issue
from streaming.tests.servers import daphne_on_test_db
from testing.factories import ContentFactory, LiveGameFactory, PlayerFactory, TeamFactory, UserFactory, member_of

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.slow,
]

MAX_SECONDS = 45
CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_schema_conformance",
        "response_headers_conformance",
        "error_code_documented",  # ours: csn/tests/schemathesis_hooks.py
    ]
)
HOOKS = Path(__file__).with_name("schemathesis_hooks.py")
# Operations that end the run's own sign-in run on their own, as a throwaway user, after the others, so
# every operation is checked: sign-out revokes the token, a new password does too (and schemathesis cannot
# know the current one), a refresh replaces it with one the run does not know, and revoking a device by id
# may hit the run's own token (ids are small integers).
SIGN_OUT_PATHS = [
    "/api/v1/auth/logout/",
    "/api/v1/auth/password/",
    "/api/v1/auth/token/refresh/",
    "/api/v1/auth/tokens/{token_id}/",
]
EXCLUDED = [part for path in SIGN_OUT_PATHS for part in ("--exclude-path", path)]
ONLY_SIGN_OUT = [part for path in SIGN_OUT_PATHS for part in ("--include-path", path)]
# The run sends far more requests than a user would: the default throttles would answer most with 429
# and leave the logic behind them untested.
THROTTLE_SETTINGS = (
    "CSN_USER_READ_THROTTLE",
    "CSN_USER_WRITE_THROTTLE",
    "CSN_ANON_READ_THROTTLE",
    "CSN_ANON_WRITE_THROTTLE",
    "CSN_LOGIN_THROTTLE",
    "CSN_REGISTER_THROTTLE",
    "CSN_ANALYTICS_THROTTLE",
)
UNTHROTTLED = dict.fromkeys(THROTTLE_SETTINGS, "100000/min")


def schemathesis_run(
    base: str, token: str, report: Path, paths: list[str], seconds: int
) -> subprocess.CompletedProcess:
    command = [
        str(Path(sys.executable).parent / "schemathesis"),
        "run",
        f"{base}/api/schema/",
        "--url",
        base,
        "--header",
        f"Authorization: Token {token}",
        "--checks",
        CHECKS,
        "--phases",
        "coverage,fuzzing,stateful",
        "--max-time",
        str(seconds),
        "--max-examples",
        "50",
        "--seed",
        "20261203",
        "--request-timeout",
        "10",
        "--continue-on-failure",
        "--generation-database",
        "none",
        "--report",
        "junit",
        "--report-junit-path",
        str(report),
        *paths,
    ]
    env = {**os.environ, "SCHEMATHESIS_HOOKS": str(HOOKS)}
    return subprocess.run(command, capture_output=True, text=True, timeout=MAX_SECONDS * 4 + 60, check=False, env=env)


def test_the_api_answers_every_request_as_its_schema_says(tmp_path, settings, monkeypatch):
    for name, rate in UNTHROTTLED.items():
        monkeypatch.setenv(name, rate)  # read by the served process's settings
    # Configured, the billing webhook answers every unsigned delivery 400 `bad_signature` (unconfigured,
    # 503 `billing_not_configured`: a server state, not the request's fault).
    monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", "whsec_schemathesis")
    team = TeamFactory()
    PlayerFactory(team=team)
    LiveGameFactory(home_team=team)
    ContentFactory()
    viewer = UserFactory()
    staff = member_of("Publishers", is_staff=True)
    runs = {
        "viewer": (token_issue(user=viewer).key, EXCLUDED, MAX_SECONDS),
        "staff": (token_issue(user=staff).key, EXCLUDED, MAX_SECONDS),
        "a user signing out": (token_issue(user=UserFactory()).key, ONLY_SIGN_OUT, 15),
    }

    failures = {}
    with daphne_on_test_db() as (base,):
        for name, (token, paths, seconds) in runs.items():
            run = schemathesis_run(base, token, tmp_path / f"{name}.xml", paths, seconds)
            if run.returncode != 0:
                failures[name] = run.stdout[-12000:] + run.stderr[-2000:]
    assert not failures, "\n\n".join(f"=== as {name}\n{out}" for name, out in failures.items())
