import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db


def test_healthz_answers_without_touching_services(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_checks_the_database_and_redis(client, settings):
    response = client.get("/readyz")

    assert response.status_code == 200
    assert response.json()["checks"]["database"] == "ok"
    if settings.REDIS_URL:
        assert response.json()["checks"]["redis"] == "ok"


def test_readyz_is_503_when_redis_is_down(client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1

    response = client.get("/readyz")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["redis"] == "unreachable"
    assert body["checks"]["database"] == "ok"


def test_readyz_is_503_when_the_database_is_down(tmp_path):
    code = (
        "import django; django.setup(); from django.test import Client; "
        "r = Client().get('/readyz'); print(r.status_code, r.json()['checks']['database'])"
    )
    env = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "CSN_REQUIRE_SERVICES"}}
    env.update(
        DJANGO_SETTINGS_MODULE="csn.settings",
        CSN_VAR_DIR=str(tmp_path),
        DATABASE_URL="postgres://postgres@127.0.0.1:1/csn",
    )
    started = time.monotonic()
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["503", "unreachable"]
    # Fails within the pool's wait (3 s) plus start-up, not after a long hang.
    assert time.monotonic() - started < 15


def test_unknown_api_path_is_a_json_404(client):
    response = client.get("/api/v1/no-such-thing/")

    assert response.status_code == 404
    assert (response.json()["code"], response.json()["error"]["code"]) == ("not_found", "not_found")


def test_wrong_method_is_405_in_the_error_shape(auth_client):
    response = auth_client.delete("/api/v1/me/")

    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"


def test_openapi_schema_and_docs_are_served(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")

    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert "/api/v1/auth/register/" in paths
    assert "/api/v1/me/" in paths
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    # Swagger UI comes from our own static files (works offline, no third-party script).
    page = docs.content.decode()
    assert "cdn.jsdelivr.net" not in page and "unpkg.com" not in page
    bundle = "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js"
    assert bundle in page
    response = client.get(bundle)
    assert response.status_code == 200
    assert b"".join(response.streaming_content)


def test_admin_and_its_static_files_are_served(client):
    assert client.get("/admin/login/").status_code == 200
    response = client.get("/static/admin/css/base.css")
    assert response.status_code == 200
    assert b"".join(response.streaming_content)


def test_local_media_is_served_in_the_embedded_default(client, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    (tmp_path / "thumbnails").mkdir()
    (tmp_path / "thumbnails" / "probe.txt").write_bytes(b"thumb")

    response = client.get("/media/thumbnails/probe.txt")

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"thumb"
    assert client.get("/media/../settings.py").status_code == 400  # path traversal refused
