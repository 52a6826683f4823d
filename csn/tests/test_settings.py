"""Configuration: embedded defaults, strict production mode, the deploy checklist."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROD_SECRET = "p" + "r0duct10n-s3cr3t-k3y-" * 4
PROD_ENV = {
    "CSN_PRODUCTION": "1",
    "SECRET_KEY": PROD_SECRET,
    "ALLOWED_HOSTS": "csn.example.com",
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/csn",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
}
CONFIG_VARS = [
    "DATABASE_URL",
    "REDIS_URL",
    "SECRET_KEY",
    "DEBUG",
    "ALLOWED_HOSTS",
    "CSN_PRODUCTION",
    "POSTHOG_API_KEY",
    "AWS_STORAGE_BUCKET_NAME",
    "CSN_REQUIRE_SERVICES",
]


def run_python(code: str, env: dict, tmp_path) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in CONFIG_VARS}
    clean.update({"DJANGO_SETTINGS_MODULE": "csn.settings", "CSN_VAR_DIR": str(tmp_path)}, **env)
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=120
    )


def test_nothing_set_means_the_embedded_default(tmp_path):
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.DATABASES['default']['ENGINE'], s.CHANNEL_LAYERS['default']['BACKEND'], "
        "s.CELERY_TASK_ALWAYS_EAGER, s.STORAGES['default']['BACKEND'], bool(s.POSTHOG_API_KEY), s.DEBUG)"
    )
    result = run_python(code, {}, tmp_path)

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "csn.sqlite3",
        "channels.layers.InMemoryChannelLayer",
        "True",
        "django.core.files.storage.FileSystemStorage",
        "False",
        "True",
    ]


def test_services_are_used_when_configured(tmp_path):
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.DATABASES['default']['ENGINE'], s.CHANNEL_LAYERS['default']['BACKEND'], "
        "s.CELERY_TASK_ALWAYS_EAGER, s.CELERY_BROKER_URL, s.STORAGES['default']['BACKEND'])"
    )
    env = {
        "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/csn",
        "REDIS_URL": "redis://127.0.0.1:6379/0",
        "AWS_STORAGE_BUCKET_NAME": "media",
    }
    result = run_python(code, env, tmp_path)

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "csn.postgresql",  # Django's, with a pool that replaces dead connections
        "channels_redis.core.RedisChannelLayer",
        "False",
        "redis://127.0.0.1:6379/0",
        "storages.backends.s3.S3Storage",
    ]


@pytest.mark.parametrize("missing", ["SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL", "REDIS_URL"])
def test_production_refuses_to_start_without_required_settings(tmp_path, missing):
    env = {k: v for k, v in PROD_ENV.items() if k != missing}
    result = run_python("import django; django.setup()", env, tmp_path)

    assert result.returncode != 0
    last_line = result.stderr.strip().splitlines()[-1]
    assert last_line == f"django.core.exceptions.ImproperlyConfigured: {missing} must be set when CSN_PRODUCTION=1"


def test_production_refuses_a_weak_secret_key(tmp_path):
    result = run_python("import django; django.setup()", {**PROD_ENV, "SECRET_KEY": "short"}, tmp_path)

    assert result.returncode != 0
    assert "SECRET_KEY must be at least 50 characters" in result.stderr


def test_production_settings_pass_the_deploy_checklist(tmp_path):
    clean = {k: v for k, v in os.environ.items() if k not in CONFIG_VARS}
    clean.update(PROD_ENV, CSN_VAR_DIR=str(tmp_path))
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
    assert "WARNINGS" not in result.stdout + result.stderr


def test_celery_is_configured_for_at_least_once_work(settings):
    from csn.celery import app

    assert app.conf.task_acks_late is True
    assert app.conf.task_reject_on_worker_lost is True
    assert app.conf.worker_prefetch_multiplier == 1
    assert app.conf.broker_transport_options["visibility_timeout"] > app.conf.task_time_limit
    if settings.REDIS_URL:
        assert app.conf.broker_url == settings.REDIS_URL


def test_throttles_do_not_trust_forwarded_for_by_default(settings):
    assert settings.REST_FRAMEWORK["NUM_PROXIES"] == 0


def test_daphne_is_started_with_websocket_size_limits():
    serve = (ROOT / "bin" / "serve").read_text()
    import daphne

    version = tuple(int(p) for p in daphne.__version__.split(".")[:3])
    assert version >= (4, 2, 2), "daphne before 4.2.2 has no websocket message/frame size limits"
    assert "--websocket-max-message-size 65536" in serve
    assert "--websocket-max-frame-size 65536" in serve


def test_ci_mode_fails_instead_of_falling_back_when_services_are_missing(tmp_path):
    clean = {k: v for k, v in os.environ.items() if k not in CONFIG_VARS}
    clean.update(CSN_REQUIRE_SERVICES="1", CSN_VAR_DIR=str(tmp_path), REDIS_URL="redis://127.0.0.1:1/0")
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "csn/tests/test_health.py::test_healthz_answers_without_touching_services"],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "DATABASE_URL does not point at PostgreSQL" in output
    assert "Redis at REDIS_URL is unreachable" in output


def test_websocket_origins_are_full_origins(tmp_path):
    code = "from django.conf import settings; print(settings.WS_ALLOWED_ORIGINS)"
    production = run_python(code, {**PROD_ENV, "CSRF_TRUSTED_ORIGINS": "https://admin.example.com"}, tmp_path)
    assert production.stdout.strip() == "['https://admin.example.com', 'https://csn.example.com']", production.stderr
    embedded = run_python(code, {}, tmp_path)
    assert embedded.stdout.strip() == "['http://127.0.0.1:8000', 'http://localhost:8000']", embedded.stderr
    host_only = run_python(code, {"CSN_WS_ALLOWED_ORIGINS": "csn.example.com"}, tmp_path)
    assert host_only.returncode != 0 and "scheme://host" in host_only.stderr
