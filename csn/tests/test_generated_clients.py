"""Clients generated from the served schema work against a served app (issue 18): openapi-python-client's
Python client, and openapi-typescript's types with a fetch script compiled by tsc --strict and run by
node. Each signs in, lists content, writes progress and reads an error code (clients/)."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher

from streaming.tests.servers import daphne_on_test_db
from testing.factories import ContentFactory, UserFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

CLIENTS = Path(__file__).with_name("clients")
PASSWORD = "a long enough password 42"
NPM_PACKAGES = ["openapi-typescript@7.13.0", "typescript@5.9.3"]
NPM_SECONDS = 240
TSC_OPTIONS = ["--strict", "--target", "es2022", "--module", "nodenext", "--moduleResolution", "nodenext"]
TSC_OPTIONS += ["--skipLibCheck", "--outDir", "out"]


def generate_paths(schema: Path, folder: Path) -> list[str]:
    return ["--path", str(schema), "--output-path", str(folder / "csn_client")]


@pytest.fixture
def served_app():
    content = ContentFactory(title="Generated clients' item", is_premium=False)
    user = UserFactory()
    # The served process checks passwords with the real hashers, not the tests' fast one.
    hasher = PBKDF2PasswordHasher()
    user.password = hasher.encode(PASSWORD, hasher.salt())
    user.save(update_fields=["password"])
    with daphne_on_test_db() as (base,):
        yield base, user, content


def _schema(base: str, folder: Path) -> Path:
    import urllib.request

    request = urllib.request.Request(f"{base}/api/schema/", headers={"Accept": "application/vnd.oai.openapi+json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        path = folder / "schema.json"
        path.write_bytes(response.read())
    return path


def _run(command, **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run(command, capture_output=True, text=True, check=False, **kwargs)
    assert result.returncode == 0, f"{command[0]}: {result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    return result


def test_a_generated_python_client_signs_in_lists_writes_and_reads_an_error(served_app, tmp_path):
    base, user, content = served_app
    schema = _schema(base, tmp_path)
    bin_dir = Path(sys.executable).parent
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}  # its ruff formats the output
    _run(
        [str(bin_dir / "openapi-python-client"), "generate", "--meta", "none", *generate_paths(schema, tmp_path)],
        cwd=tmp_path,
        env=env,
        timeout=300,
    )

    run = _run(
        [sys.executable, str(CLIENTS / "python_client.py"), base, user.email, PASSWORD],
        env={**env, "PYTHONPATH": str(tmp_path)},
        timeout=120,
    )

    out = json.loads(run.stdout)
    assert out["token"] is True
    assert content.title in out["titles"]
    assert out["progress"] == [content.pk, 20.0, True]
    assert out["missing"] == [404, "no_progress"]
    assert out["refused"][:2] == [400, "invalid_credentials"]


def test_typescript_types_from_the_schema_type_check_a_fetch_script_that_works(served_app, tmp_path):
    base, user, content = served_app
    npm, node = shutil.which("npm"), shutil.which("node")
    if not (npm and node):
        pytest.skip("node and npm are not installed")
    (tmp_path / "package.json").write_text('{"private": true, "type": "module"}')
    try:
        install = subprocess.run(
            [npm, "install", "--no-audit", "--no-fund", "--silent", *NPM_PACKAGES],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=NPM_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired:
        pytest.skip(f"npm install took over {NPM_SECONDS} s (registry unreachable?)")
    if install.returncode != 0:
        pytest.skip(f"npm install failed (registry unreachable?): {install.stderr[-500:]}")
    tools = tmp_path / "node_modules" / ".bin"
    schema = _schema(base, tmp_path)
    _run([str(tools / "openapi-typescript"), str(schema), "-o", str(tmp_path / "schema.d.ts")], timeout=120)
    shutil.copy(CLIENTS / "ts_client.ts", tmp_path / "ts_client.ts")
    _run(
        [str(tools / "tsc"), *TSC_OPTIONS, "ts_client.ts"],
        cwd=tmp_path,
        timeout=120,
    )

    run = _run([node, str(tmp_path / "out" / "ts_client.js"), base, user.email, PASSWORD], timeout=60)

    out = json.loads(run.stdout)
    assert out["token"] is True
    assert content.title in out["titles"]
    assert out["progress"] == [content.pk, 50, True]
    assert out["missing"] == [404, "no_progress", "application/problem+json"]
