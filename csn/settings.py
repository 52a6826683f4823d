"""CSN settings: the only place that reads the environment.

Nothing set means the embedded default (SQLite file, in-memory channel layer, no broker,
analytics logged not sent, local file storage). `CSN_PRODUCTION=1` turns on the strict mode:
secrets must be given, and the security settings `check --deploy` looks for are on.
"""

import datetime
import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("CSN_VAR_DIR", BASE_DIR / "var"))


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def env_bool(name: str, default: bool = False) -> bool:
    value = env_str(name)
    if not value:
        return default
    return value.lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = env_str(name)
    return int(value) if value else default


def env_list(name: str, default: list[str]) -> list[str]:
    value = env_str(name)
    return [item.strip() for item in value.split(",") if item.strip()] if value else default


PRODUCTION = env_bool("CSN_PRODUCTION")


def require(name: str) -> str:
    """A production secret or setting: refuse to start without it, with a one-line reason."""
    value = env_str(name)
    if not value:
        raise ImproperlyConfigured(f"{name} must be set when CSN_PRODUCTION=1")
    return value


# --- Core -----------------------------------------------------------------------------------
if PRODUCTION:
    SECRET_KEY = require("SECRET_KEY")
    if len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5:
        raise ImproperlyConfigured("SECRET_KEY must be at least 50 characters with 5 distinct ones")
    ALLOWED_HOSTS = [h.strip() for h in require("ALLOWED_HOSTS").split(",") if h.strip()]
    DEBUG = env_bool("DEBUG", False)
else:
    SECRET_KEY = env_str("SECRET_KEY") or "django-insecure-embedded-default-never-used-in-production"
    ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver", "[::1]"])
    DEBUG = env_bool("DEBUG", True)

CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
# Full origins (scheme://host[:port]) whose pages may open /ws/ with the session cookie
# (streaming.live.security.OriginGuard). Production: the trusted CSRF origins and https:// on each
# allowed host; embedded: this server's own address.
WS_ALLOWED_ORIGINS = env_list(
    "CSN_WS_ALLOWED_ORIGINS",
    [*CSRF_TRUSTED_ORIGINS, *(f"https://{h}" for h in ALLOWED_HOSTS if h[:1] not in {".", "*"})]
    if PRODUCTION
    else [f"http://{host}:{env_str('CSN_PORT', '8000')}" for host in ("127.0.0.1", "localhost")],
)
if any("://" not in origin for origin in WS_ALLOWED_ORIGINS):
    raise ImproperlyConfigured("CSN_WS_ALLOWED_ORIGINS takes full origins: scheme://host[:port]")

INSTALLED_APPS = [
    "daphne",
    "csn.apps.AdminConfig",  # django.contrib.admin with a throttled login (csn.admin.AdminSite)
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",  # full-text and trigram search on PostgreSQL (content.api.filters)
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI served from our static files, not a CDN
    "channels",
    "reversion",  # every save of a content item is a revision (content.services.revisions)
    "csn.realtime",
    "csn.api",
    "accounts",
    "content",
    "streaming",
    "analytics",
]

MIDDLEWARE = [
    # Outermost: every response gets its X-Request-ID and is timed, whatever answers it.
    "csn.requestid.RequestIdMiddleware",
    "csn.metrics.HttpMetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csn.api.caching.CachedReadEarlyMiddleware",  # an anonymous catalogue cache hit, before the rest
    "csn.browser.BrowserSessionMiddleware",  # csn.browser: passed by for API tokens
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "csn.browser.BrowserAuthenticationMiddleware",
    "csn.api.ratelimit.RateLimitHeadersMiddleware",  # RateLimit headers from the API's throttles
    "csn.db.ReadYourWritesMiddleware",  # a client that just wrote reads the primary (csn.db)
    "csn.browser.BrowserMessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "csn.urls"
ASGI_APPLICATION = "csn.asgi.application"
# Allocations between two young-generation garbage collections in a server process (csn/asgi.py).
SERVER_GC_THRESHOLD = env_int("CSN_GC_THRESHOLD", 10_000)
# Worker threads serving HTTP requests in each daphne process (csn.asgi_http); each holds at most one
# pooled database connection during a request.
HTTP_THREADS = env_int("CSN_HTTP_THREADS", 12)
# Overload (csn.asgi_http): past this many requests in flight, when the CPU of those in flight at the
# recent CPU per request predicts a newcomer would wait past HTTP_MAX_PREDICTED_MS (0: off), or when the
# oldest waiting for a worker thread has waited this long, a new request is a 503 `overloaded` with
# Retry-After, at once.
HTTP_MAX_IN_FLIGHT = env_int("CSN_HTTP_MAX_IN_FLIGHT", 4 * HTTP_THREADS)
HTTP_MAX_PREDICTED_MS = env_int("CSN_HTTP_MAX_PREDICTED_MS", 50)
HTTP_MAX_QUEUE_WAIT_MS = env_int("CSN_HTTP_MAX_QUEUE_WAIT_MS", 50)
# Python's thread switch interval in a server process (csn.serve): how long the event loop's thread can
# wait for the GIL behind a busy worker thread, each time it wakes, in microseconds (Python's: 5,000).
SERVER_SWITCH_INTERVAL_US = env_int("CSN_SWITCH_INTERVAL_US", 1000)
HTTP_RETRY_AFTER_SECONDS = env_int("CSN_HTTP_RETRY_AFTER", 1)
WSGI_APPLICATION = None

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL")
if PRODUCTION:
    DATABASE_URL = require("DATABASE_URL")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "db.sqlite3",
            # SQLite serializes writers; wait instead of failing under concurrent writes.
            "OPTIONS": {"timeout": 20, "transaction_mode": "IMMEDIATE"},
        }
    }
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Django's, with PostgreSQL's integer ranges: the API validates and documents the same (csn/sqlite3).
    DATABASES["default"]["ENGINE"] = "csn.sqlite3"
# A process-wide psycopg pool hands connections to the HTTP worker threads and to Channels' database
# thread: a persistent per-thread connection (CONN_MAX_AGE) would sit idle in every thread.
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and env_bool("CSN_DB_POOL", True):
    # Django's backend, whose pool replaces a connection PostgreSQL ended (a restart, a failover) as it
    # hands it out instead of failing the request that got it (csn/postgresql/base.py).
    DATABASES["default"]["ENGINE"] = "csn.postgresql"
    DATABASES["default"]["CONN_MAX_AGE"] = 0  # Django requires it with a pool
    # No round trip per checkout from psycopg_pool's `check`: the backend above checks without one.
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = False
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": env_int("CSN_DB_POOL_MIN_SIZE", 2),
        "max_size": env_int("CSN_DB_POOL_MAX_SIZE", 20),
        # How long a request waits for a connection. The pool outnumbers a process's threads (HTTP
        # workers plus Channels' database thread), so in practice this is how long a request waits
        # while PostgreSQL is unreachable before failing (and /readyz answers 503).
        "timeout": env_int("CSN_DB_POOL_TIMEOUT", 3),
    }
# Behind PgBouncer in transaction pooling, a session outlives no transaction: no server-side prepared
# statements (psycopg prepares a query it ran 5 times) and no server-side cursors.
if env_bool("CSN_DB_PGBOUNCER") and DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = None
    DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = True
# A read replica for read-only selectors (csn.db): same engine and options as the primary, never migrated.
DATABASE_REPLICA_URL = env_str("DATABASE_REPLICA_URL")
DATABASE_REPLICA_STICKY_SECONDS = env_int("CSN_DB_REPLICA_STICKY_SECONDS", 5)
if DATABASE_REPLICA_URL:
    replica = dj_database_url.parse(DATABASE_REPLICA_URL)
    DATABASES["replica"] = {
        **DATABASES["default"],
        **{key: replica[key] for key in ("NAME", "USER", "PASSWORD", "HOST", "PORT")},
        "OPTIONS": {**DATABASES["default"].get("OPTIONS", {})},
        "TEST": {"MIRROR": "default"},
    }
    DATABASE_ROUTERS = ["csn.db.ReplicaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Redis: cache, channel layer, Celery broker ----------------------------------------------
REDIS_URL = env_str("REDIS_URL")
if PRODUCTION:
    REDIS_URL = require("REDIS_URL")

if REDIS_URL:
    CACHES = {"default": {"BACKEND": "csn.cache.RedisCache", "LOCATION": REDIS_URL}}
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            # group_expiry must outlive the longest socket (WEBSOCKET_TIMEOUT below).
            # socket_timeout above channels-redis' 5 s blocking receive: redis-py 8 reads with a 5 s default
            # timeout, so an idle socket's consumer raced it and died (TimeoutError) after ~5 s.
            "CONFIG": {
                "hosts": [{"address": REDIS_URL, "socket_timeout": 15}],
                "group_expiry": 86400 + 3600,
                "capacity": 1000,
            },
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# The longest a daphne websocket may stay open (seconds); see Dockerfile and Makefile.
WEBSOCKET_TIMEOUT = 86400

# --- Celery ---------------------------------------------------------------------------------
CELERY_BROKER_URL = REDIS_URL or "memory://"
# kombu's Redis transport with a fix: losing Redis no longer ends the worker (csn/celery.py).
CELERY_BROKER_TRANSPORT = "csn.celery:RedisTransport" if REDIS_URL else None
# No broker in the embedded default: tasks run in-process when queued (after commit).
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# A task running when Redis goes away runs to its end (Celery's default, said here to silence its warning
# that 6.0 cancels them): its ack is lost, Redis hands it out again after the visibility timeout, and a
# rerun finds its work done (analytics delivery deletes what PostHog accepted).
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = False
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Redis redelivers an unacked task after this; retries and ETAs must stay below it.
CELERY_VISIBILITY_TIMEOUT = 3600
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_VISIBILITY_TIMEOUT}
CELERY_TASK_TIME_LIMIT = 300
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_BEAT_SCHEDULE: dict = {}
CELERY_TASK_IGNORE_RESULT = True

# --- Analytics (PostHog) --------------------------------------------------------------------
POSTHOG_API_KEY = env_str("POSTHOG_API_KEY")
POSTHOG_HOST = env_str("POSTHOG_HOST", "https://us.i.posthog.com")

# --- Storage --------------------------------------------------------------------------------
AWS_STORAGE_BUCKET_NAME = env_str("AWS_STORAGE_BUCKET_NAME")
MEDIA_ROOT = Path(env_str("MEDIA_ROOT") or VAR_DIR / "media")
MEDIA_URL = "/media/"
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
if AWS_STORAGE_BUCKET_NAME:
    AWS_S3_ENDPOINT_URL = env_str("AWS_S3_ENDPOINT_URL") or None
    AWS_S3_REGION_NAME = env_str("AWS_S3_REGION_NAME", "us-east-1")
    AWS_ACCESS_KEY_ID = env_str("AWS_ACCESS_KEY_ID") or None
    AWS_SECRET_ACCESS_KEY = env_str("AWS_SECRET_ACCESS_KEY") or None
    AWS_QUERYSTRING_AUTH = True
    AWS_DEFAULT_ACL = None
    AWS_S3_FILE_OVERWRITE = False
    DEFAULT_FILE_STORAGE_BACKEND = "storages.backends.s3.S3Storage"
else:
    DEFAULT_FILE_STORAGE_BACKEND = "django.core.files.storage.FileSystemStorage"
STORAGES = {
    "default": {"BACKEND": DEFAULT_FILE_STORAGE_BACKEND},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
# Admin static files come from the app folders in development without collectstatic.
WHITENOISE_USE_FINDERS = not PRODUCTION
WHITENOISE_AUTOREFRESH = not PRODUCTION

# --- Request limits -------------------------------------------------------------------------
DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024  # 1 MiB of JSON is far more than any endpoint needs
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
# Bodies past these are refused (413) before they are read (csn.asgi_http): a JSON or form body past
# DATA_UPLOAD_MAX_MEMORY_SIZE; a multipart form (admin images) past HTTP_MAX_FORM_UPLOAD_BYTES; on the
# media upload paths, a file up to CSN_MEDIA_MAX_UPLOAD_BYTES.
HTTP_MAX_FORM_UPLOAD_BYTES = env_int("CSN_MAX_FORM_UPLOAD_BYTES", 20 * 1024 * 1024)
HTTP_UPLOAD_PATHS = [r"/admin/content/mediaasset/add/", r"/api/v1/media/\d+/upload/"]

# --- REST framework -------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["csn.api.parsers.BoundedJSONParser"],  # JSON nested at most 32 deep
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "csn.api.negotiation.CachedContentNegotiation",  # chosen once per Accept
    "DEFAULT_PAGINATION_CLASS": "csn.api.pagination.CursorPagination",
    "PAGE_SIZE": 20,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "csn.api.errors.exception_handler",
    # Every endpoint without its own throttles: per signed-in user, else per client address; reads
    # (GET, HEAD, OPTIONS) and writes counted apart (csn.api.rates).
    "DEFAULT_THROTTLE_CLASSES": ["csn.api.rates.UserRateThrottle", "csn.api.rates.AnonRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "login": env_str("CSN_LOGIN_THROTTLE", "10/min"),
        "register": env_str("CSN_REGISTER_THROTTLE", "20/hour"),
        "user_read": env_str("CSN_USER_READ_THROTTLE", "1200/min"),
        "user_write": env_str("CSN_USER_WRITE_THROTTLE", "300/min"),
        "anon_read": env_str("CSN_ANON_READ_THROTTLE", "600/min"),
        "anon_write": env_str("CSN_ANON_WRITE_THROTTLE", "60/min"),
        "analytics": env_str("CSN_ANALYTICS_THROTTLE", "600/min"),
    },
    # Client address = REMOTE_ADDR minus this many trusted proxies; 0 ignores X-Forwarded-For,
    # so a client cannot pick its own throttle key.
    "NUM_PROXIES": env_int("CSN_NUM_PROXIES", 0),
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

# What is deprecated, since when, and when it may go (csn.api.deprecation; docs/changelog.md says the same).
API_DEPRECATIONS = {
    "query:published_after": {
        "deprecated": datetime.date(2026, 12, 3),
        "sunset": datetime.date(2027, 6, 30),
        "link": "/api/changelog/",
    },
    "query:published_before": {
        "deprecated": datetime.date(2026, 12, 3),
        "sunset": datetime.date(2027, 6, 30),
        "link": "/api/changelog/",
    },
}

SPECTACULAR_SETTINGS = {
    "TITLE": "CSN API",
    "DESCRIPTION": "The CSN sports-streaming platform API: accounts, the catalogue, viewer state (progress, "
    "Continue Watching, My List, playlists), fans (favorites, notifications), live companions and analytics. "
    "Sign in with `POST /api/v1/auth/token/` and send the token in `Authorization`. Every error is an RFC 9457 "
    "problem (the `Problem` component); each operation lists the codes it can answer in `x-error-codes`. "
    "Guides: docs/quickstart.md, docs/api.md; changes: docs/changelog.md.",
    "VERSION": "1.8.0",
    # Paths start /api/v1/: tags and operation ids come from what follows.
    "SCHEMA_PATH_PREFIX": r"/api/v[0-9]+",
    "SERVERS": [
        {"url": "/", "description": "The server that serves this schema"},
        {"url": "http://127.0.0.1:8000", "description": "`make run` on this machine"},
    ],
    "TAGS": [
        {
            "name": "auth",
            "description": "Sign up, sign in and out (per device), refresh, the device list, change the password.",
        },
        {"name": "me", "description": "The signed-in user's profile, preferences and subscription."},
        {"name": "content", "description": "The catalogue's items (videos, shows, clips) and editors' transitions."},
        {"name": "teams", "description": "Teams."},
        {"name": "players", "description": "Players."},
        {"name": "games", "description": "The schedule and each game's state."},
        {"name": "media", "description": "Editors' media uploads."},
        {"name": "progress", "description": "Watch progress of one item."},
        {"name": "continue-watching", "description": "Unfinished items, newest first."},
        {"name": "history", "description": "Everything watched."},
        {"name": "my-list", "description": "The user's saved items."},
        {"name": "playlists", "description": "The user's playlists and shared links."},
        {"name": "favorites", "description": "Followed teams and players."},
        {"name": "notifications", "description": "The user's notifications."},
        {
            "name": "live",
            "description": "REST companions of the live websocket: score events, heartbeats, "
            "viewing sessions, chat moderation (docs/protocol.md).",
        },
        {
            "name": "playback",
            "description": "Authorized playback: signed manifest addresses, viewing sessions (docs/playback.md).",
        },
        {"name": "billing", "description": "The billing provider's webhook (docs/playback.md)."},
        {"name": "analytics", "description": "App analytics events (docs/analytics.md)."},
        {
            "name": "spoilers",
            "description": "Spoiler-safe mode: results hidden until reached or revealed (docs/api.md).",
        },
    ],
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Every operation documents the error shape for 4XX/5XX (csn/api/schema.py).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "csn.api.schema.error_responses",
        "csn.api.schema.response_fields_required",
        "csn.api.schema.public_operations",
        "csn.api.schema.response_headers",
        "csn.api.schema.blank_strings_any_of",
        "csn.requestid.schema_header",  # X-Request-ID on every response
    ],
    # csn/urls.py's path converters: `<id:…>` a bigint key, `<token:…>` a share token.
    "PATH_CONVERTER_OVERRIDES": {
        "id": {"type": "integer", "format": "int64", "minimum": 1, "maximum": 2**63 - 1},
        "token": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$"},
    },
}

# --- Sessions, CSRF, security ---------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # the watch page reads it to send CSRF headers
LOGIN_URL = "sign-in"  # the viewers' page (accounts.views); the admin keeps its own
if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env_int("CSN_NUM_PROXIES", 0) else None
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_CONTENT_TYPE_NOSNIFF = True
    SECURE_REFERRER_POLICY = "same-origin"
    # Healthchecks are probed over plain HTTP by the orchestrator.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]

# --- i18n -----------------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Logging --------------------------------------------------------------------------------
# `CSN_LOG_FORMAT=json`: one JSON object per line (python-json-logger), for a log pipeline. Every record
# has the request id of the work that logged it (csn.requestid: HTTP request, websocket, Celery task).
LOG_FORMAT = env_str("CSN_LOG_FORMAT", "plain")
if LOG_FORMAT not in {"plain", "json"}:
    raise ImproperlyConfigured("CSN_LOG_FORMAT is plain or json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "csn.requestid.RequestIdFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(request_id)s %(message)s %(process)d",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger", "process": "pid"},
        },
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["request_id"]}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        # Django's default config gives "django" its own console handler (DEBUG on) besides the root's:
        # each 4xx (`django.request`'s log_response) printed twice. Records propagate to the root only.
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        "django.db.backends": {"level": "WARNING"},
    },
}

# --- Retention (beat jobs; csn.retention deletes in bounded batches) --------------------------------
RETENTION_BATCH_SIZE = env_int("CSN_RETENTION_BATCH_SIZE", 1000)
RETENTION_MAX_BATCHES = env_int("CSN_RETENTION_MAX_BATCHES", 100)  # per run; the next run goes on
RETAIN_CHAT_DAYS = env_int("CSN_RETAIN_CHAT_DAYS", 90)
RETAIN_LIVE_SESSIONS_DAYS = env_int("CSN_RETAIN_LIVE_SESSIONS_DAYS", 30)  # ended viewing sessions
RETAIN_READ_NOTIFICATIONS_DAYS = env_int("CSN_RETAIN_READ_NOTIFICATIONS_DAYS", 90)
# Delivered outbox rows are deleted as PostHog accepts them; rows given up on ("dead") stay this long.
RETAIN_DEAD_OUTBOX_DAYS = env_int("CSN_RETAIN_DEAD_OUTBOX_DAYS", 30)
CELERY_BEAT_SCHEDULE.update(
    {
        "retention-chat": {"task": "streaming.chat_messages_prune", "schedule": 3600.0},
        "retention-live-sessions": {"task": "streaming.live_sessions_prune", "schedule": 3600.0},
        "retention-notifications": {"task": "streaming.notifications_read_prune", "schedule": 3600.0},
        "retention-outbox": {"task": "analytics.outbox_dead_prune", "schedule": 3600.0},
        "metrics-outbox": {"task": "analytics.outbox_measure", "schedule": 30.0, "options": {"expires": 30.0}},
    }
)

# --- Metrics and traces (csn.metrics, csn.telemetry; docs/operations.md) --------------------------
# /metrics is never public: on a port of its own (CSN_METRICS_PORT, not routed by the proxy), or on the
# main port to a bearer of CSN_METRICS_TOKEN. Neither set: no /metrics at all.
METRICS_PORT = env_int("CSN_METRICS_PORT", 0)
METRICS_ADDR = env_str("CSN_METRICS_ADDR", "0.0.0.0")  # noqa: S104 (the pod's address, for the scraper)
METRICS_TOKEN = env_str("CSN_METRICS_TOKEN")
if METRICS_TOKEN and len(METRICS_TOKEN) < 20:
    raise ImproperlyConfigured("CSN_METRICS_TOKEN must be at least 20 characters")
# OpenTelemetry tracing (Django, psycopg, Redis, Celery), exported by OTLP/HTTP to
# OTEL_EXPORTER_OTLP_ENDPOINT; off unless CSN_OTEL=1 (needs requirements-otel.txt).
OTEL_ENABLED = env_bool("CSN_OTEL")

# Embedded mode writes under var/; make sure it exists.
if not PRODUCTION:
    VAR_DIR.mkdir(parents=True, exist_ok=True)

# --- Content (catalogue, CMS, media uploads) ------------------------------------------------
# Media uploads: what editors may upload, how large, and how long a presigned bucket URL lives.
CSN_MEDIA_ALLOWED_TYPES = env_list(
    "CSN_MEDIA_ALLOWED_TYPES",
    [
        "video/mp4",
        "video/quicktime",
        "video/webm",
        "video/mp2t",
        "application/vnd.apple.mpegurl",
        "image/jpeg",
        "image/png",
        "image/webp",
    ],
)
CSN_MEDIA_MAX_UPLOAD_BYTES = env_int("CSN_MEDIA_MAX_UPLOAD_BYTES", 20 * 1024**3)  # 20 GiB: a full game in HD
CSN_MEDIA_UPLOAD_URL_TTL = env_int("CSN_MEDIA_UPLOAD_URL_TTL", 3600)
# Two models have a `status` field with different choices; name their schema enums apart.
SPECTACULAR_SETTINGS.setdefault("ENUM_NAME_OVERRIDES", {}).update(
    {
        "GameStatusEnum": "content.models.Game.Status",
        "MediaAssetStatusEnum": "content.models.MediaAsset.Status",
        "ImageFormatEnum": [("jpeg", "jpeg"), ("webp", "webp")],  # an item's `images` (content renditions)
        "ChatMessageStatusEnum": [("published", "published"), ("pending", "pending"), ("rejected", "rejected")],
        "ChatReportStatusEnum": "streaming.live.models.ChatReport.Status",
        "PredictionStatusEnum": "streaming.live.models.Prediction.Status",
        "PredictionKindEnum": "streaming.live.models.Prediction.Kind",
        "ModeEnum": [(mode, mode) for mode in ("everyone", "premium", "fans", "emotes")],  # the chat's (1.4.0)
        "SpoilerModeEnum": "content.models.SpoilerPreference.Mode",
    }
)

# --- analytics ------------------------------------------------------------------------------
# Outbox delivery (analytics/services/delivery.py, scheduling.py). Every delay and limit here stays below
# CELERY_VISIBILITY_TIMEOUT: Redis redelivers (and so runs twice) anything unacked for longer.
ANALYTICS_INTAKE_MAX_EVENTS = 50
ANALYTICS_MAX_EVENT_AGE_SECONDS = env_int("CSN_ANALYTICS_MAX_EVENT_AGE_SECONDS", 7 * 86400)
ANALYTICS_MAX_CLOCK_SKEW_SECONDS = 600
ANALYTICS_BATCH_SIZE = env_int("CSN_ANALYTICS_BATCH_SIZE", 100)
ANALYTICS_SEND_TIMEOUT_SECONDS = 10
ANALYTICS_MAX_ATTEMPTS = env_int("CSN_ANALYTICS_MAX_ATTEMPTS", 12)
ANALYTICS_RETRY_BASE_SECONDS = 5
ANALYTICS_RETRY_MAX_SECONDS = 1800
# The first delivery ask after a quiet spell runs at once; asks within this window after it are
# coalesced into one task at its end (analytics.services.scheduling).
ANALYTICS_KICK_SECONDS = 0.5
ANALYTICS_TASK_TIME_BUDGET_SECONDS = 60
ANALYTICS_TASK_SOFT_TIME_LIMIT = 120
ANALYTICS_TASK_TIME_LIMIT = 150
ANALYTICS_SWEEP_SECONDS = env_int("CSN_ANALYTICS_SWEEP_SECONDS", 30)
CELERY_BEAT_SCHEDULE["analytics-deliver-outbox"] = {
    "task": "analytics.deliver_outbox",
    "schedule": float(ANALYTICS_SWEEP_SECONDS),
    # A sweep that waited longer than its interval is superseded by the next one.
    "options": {"expires": float(ANALYTICS_SWEEP_SECONDS)},
}

# --- API tokens (accounts.models.AuthToken): one per signed-in device ------------------------
# A token lives this long from its issue or its last refresh (POST /api/v1/auth/token/refresh/).
ACCOUNTS_TOKEN_TTL_SECONDS = env_int("CSN_TOKEN_TTL_DAYS", 30) * 86400
# `last_used_at` is written at most this often per token (a write per request would cost every request).
ACCOUNTS_TOKEN_TOUCH_SECONDS = 300
# After a refresh, the secret it replaced still works this long (requests already in flight); presented to
# the refresh endpoint after it, the device's token is revoked (refresh-token reuse detection).
ACCOUNTS_TOKEN_REFRESH_GRACE_SECONDS = env_int("CSN_TOKEN_REFRESH_GRACE_SECONDS", 30)
# Ended tokens (expired, revoked) are kept this long so a client presenting one gets its reason, then pruned.
ACCOUNTS_TOKEN_KEEP_ENDED_SECONDS = 30 * 86400
CELERY_BEAT_SCHEDULE["accounts-tokens-prune"] = {"task": "accounts.tokens_prune", "schedule": 86400.0}

# --- Live (issue 6): gateway limits, chat, presence -----------------------------------------
LIVE_MAX_MESSAGE_BYTES = env_int("CSN_LIVE_MAX_MESSAGE_BYTES", 4096)
LIVE_MAX_SUBSCRIPTIONS = env_int("CSN_LIVE_MAX_SUBSCRIPTIONS", 20)
# A socket sending more than this many messages in one second is closed (flood).
LIVE_FLOOD_MESSAGES_PER_SECOND = env_int("CSN_LIVE_FLOOD_PER_SECOND", 50)
LIVE_REPLAY_LIMIT = env_int("CSN_LIVE_REPLAY_LIMIT", 500)
LIVE_SNAPSHOT_CHAT_MESSAGES = 50
LIVE_SNAPSHOT_PLAYS = 50
# Frames waiting for one socket; past it the socket is a slow reader and is cut off.
LIVE_SEND_QUEUE_MAX = env_int("CSN_LIVE_SEND_QUEUE_MAX", 2000)
# A topic's next fan-out pass waits this many times as long as its last pass took (csn.realtime.hub).
LIVE_PACE_FACTOR = float(env_str("CSN_LIVE_PACE_FACTOR", "2"))

# Catalogue reads (csn.api.caching, content.services.cache): seconds an answer stays in the server's
# cache (versioned keys make a change visible at once; this bounds staleness only while the cache is
# unreachable for invalidation), and the shared-cache headers of public (credential-less) answers.
CATALOGUE_CACHE_SECONDS = env_int("CSN_CATALOGUE_CACHE_SECONDS", 60)
CATALOGUE_SHARED_MAX_AGE = env_int("CSN_CATALOGUE_SHARED_MAX_AGE", 30)
CATALOGUE_STALE_WHILE_REVALIDATE = env_int("CSN_CATALOGUE_STALE_WHILE_REVALIDATE", 30)
# Resume replays events this recent (clients further behind get a snapshot); older ones are deleted.
LIVE_EVENT_RETENTION_HOURS = env_int("CSN_RETAIN_LIVE_EVENTS_HOURS", 48)
# Aligned delivery (csn.realtime.alignment): delays are rounded up to this (a socket is at most this late),
# a topic keeps at most this many recent events for its aligned sockets, a horizon may be at most this far
# behind (a broadcast's DVR window narrows it), and a socket may move its horizon back this often a minute.
LIVE_ALIGN_QUANTUM_SECONDS = float(env_str("CSN_LIVE_ALIGN_QUANTUM_SECONDS", "0.1"))
LIVE_ALIGN_TIMELINE_MAX = env_int("CSN_LIVE_ALIGN_TIMELINE_MAX", 50000)
LIVE_ALIGN_MAX_DELAY_SECONDS = env_int("CSN_LIVE_ALIGN_MAX_DELAY_SECONDS", 7200)
LIVE_ALIGN_REWINDS_PER_MINUTE = env_int("CSN_LIVE_ALIGN_REWINDS_PER_MINUTE", 10)
LIVE_CHAT_MAX_LENGTH = 500
LIVE_CHAT_RATE_COUNT = env_int("CSN_LIVE_CHAT_RATE_COUNT", 5)
LIVE_CHAT_RATE_WINDOW_SECONDS = env_int("CSN_LIVE_CHAT_RATE_WINDOW", 10)
# Banned terms (RE2): one term's compiled program at most this many instructions / bytes; a game's set
LIVE_CHAT_TERM_MAX_PROGRAM = 5000
LIVE_CHAT_TERM_MAX_MEM = 1 << 20
LIVE_CHAT_TERM_SET_MAX_MEM = 64 << 20
# Chat reports: messages of context shown with a reported message; reports one user may file per hour
LIVE_CHAT_REPORT_CONTEXT = 5
LIVE_CHAT_REPORTS_PER_HOUR = 30
# Reactions to a game: the fixed set, and how many one socket may send per second
LIVE_REACTIONS = env_str("CSN_LIVE_REACTIONS", "🔥,👏,😂,😮,😡,🎉").split(",")
LIVE_REACTIONS_PER_SECOND = env_int("CSN_LIVE_REACTIONS_PER_SECOND", 5)
LIVE_PRESENCE_TIMEOUT_SECONDS = 45
# Redis pub/sub channels are shared by every database number; the prefix keeps them apart.
LIVE_REDIS_CHANNEL_PREFIX = "csn.live." + (REDIS_URL.rstrip("/").rsplit("/", 1)[-1] if REDIS_URL else "0") + "."
CELERY_BEAT_SCHEDULE["live-presence-close-stale"] = {
    "task": "streaming.presence_close_stale",
    "schedule": 15.0,
}
CELERY_BEAT_SCHEDULE["live-events-prune"] = {"task": "realtime.live_events_prune", "schedule": 3600.0}
# Idempotency keys (csn.api.idempotency): kept a day, then pruned.
API_IDEMPOTENCY_TTL_SECONDS = env_int("CSN_IDEMPOTENCY_TTL", 24 * 3600)
CELERY_BEAT_SCHEDULE["api-idempotency-keys-prune"] = {"task": "api.idempotency_keys_prune", "schedule": 3600.0}
# Graceful drain on SIGTERM (csn/serve.py, csn.realtime.drain): sockets are told to reconnect and closed,
# spread over this many seconds; each client waits a random 0..LIVE_RECONNECT_JITTER_MS before it does.
# Keep the orchestrator's grace period (terminationGracePeriodSeconds, compose stop_grace_period) above it.
LIVE_DRAIN_SECONDS = float(env_str("CSN_LIVE_DRAIN_SECONDS", "20"))
LIVE_RECONNECT_JITTER_MS = env_int("CSN_LIVE_RECONNECT_JITTER_MS", 5000)
# Degrade under load (csn.realtime.load): levels 1, 2, 3 start when the worst lag (fan-out or event loop)
# passes these; a level is left after LIVE_SHED_RECOVER_SECONDS below its threshold.
LIVE_SHED_LAG_SECONDS = [float(v) for v in env_list("CSN_LIVE_SHED_LAG_SECONDS", ["0.1", "0.25", "0.5"])]
if len(LIVE_SHED_LAG_SECONDS) != 3 or sorted(LIVE_SHED_LAG_SECONDS) != LIVE_SHED_LAG_SECONDS:
    raise ImproperlyConfigured("CSN_LIVE_SHED_LAG_SECONDS is three rising thresholds, e.g. 0.1,0.25,0.5")
LIVE_SHED_RECOVER_SECONDS = float(env_str("CSN_LIVE_SHED_RECOVER_SECONDS", "10"))
LIVE_SHED_STATE_SECONDS = [5.0, 15.0, 15.0]  # a viewer count at most this often per topic, at level 1, 2, 3
LIVE_SHED_SUMMED_SECONDS = [2.0, 5.0, 10.0]  # a reactions counts frame at most this often per game, at level 1, 2, 3
LIVE_SHED_SAMPLE_ROOM = env_int("CSN_LIVE_SHED_SAMPLE_ROOM", 500)  # local sockets of a chat sampled at level 3
LIVE_SHED_SAMPLE_KEEP_ONE_IN = env_int("CSN_LIVE_SHED_SAMPLE_KEEP_ONE_IN", 10)
# A sampled room's passes are spaced this many times further apart (fewer writes per socket; the hub's
# pause stays under 0.5 s).
LIVE_SHED_SAMPLED_PACE = float(env_str("CSN_LIVE_SHED_SAMPLED_PACE", "4"))
# A fan-out pass later than this after its event's publish is logged, with the publishing request ids.
LIVE_SLOW_FANOUT_LOG_SECONDS = 1.0
# Live tests run daphne in a subprocess on the test database: SQLite's must be a file, not memory.
if DATABASES["default"]["ENGINE"] == "csn.sqlite3":
    DATABASES["default"].setdefault("TEST", {})["NAME"] = str(VAR_DIR / "test-db.sqlite3")

# --- CSN Studio (issue 15): scheduling, editing together, CSV imports, image renditions ----------
# Beat publishes and unpublishes what is due every minute (content.tasks.schedule_run; idempotent).
CELERY_BEAT_SCHEDULE["content-schedule-run"] = {
    "task": "content.tasks.schedule_run",
    "schedule": 60.0,
    "options": {"expires": 60.0},
}
# An item page open in the Studio says so every 20 s; past this it no longer counts as open.
STUDIO_EDITOR_TIMEOUT_SECONDS = 60
# CSV imports: the most rows one file may hold, rows written per statement, errors kept to show.
CSN_IMPORT_MAX_ROWS = env_int("CSN_IMPORT_MAX_ROWS", 50_000)
CSN_IMPORT_MAX_BYTES = env_int("CSN_IMPORT_MAX_BYTES", 16 * 1024**2)  # under CSN_MAX_FORM_UPLOAD_BYTES
CSN_IMPORT_BATCH_ROWS = 500
CSN_IMPORT_ERRORS_KEPT = 200
# Image renditions: widths the apps ask for, each in WebP and JPEG; larger images are refused (bombs).
CSN_RENDITION_WIDTHS = [320, 640, 1280]
CSN_IMAGE_MAX_PIXELS = env_int("CSN_IMAGE_MAX_PIXELS", 40_000_000)

CELERY_BEAT_SCHEDULE["content-media-expire-pending"] = {
    "task": "content.tasks.media_expire_pending",
    "schedule": 15 * 60,
}


# --- Products, playback, billing (docs/playback.md) -----------------------------------------
# The product the premium Subscription plan grants (accounts.entitlements.plan_entitlement_sync).
CSN_PLAN_PRODUCT = env_str("CSN_PLAN_PRODUCT", "premium")
# Concurrent streams (live presence and playback sessions) of a user holding no product that allows more.
CSN_STREAM_LIMIT_WITHOUT_PRODUCT = env_int("CSN_STREAM_LIMIT_WITHOUT_PRODUCT", 1)
# A signed playback URL's lifetime, and how often a player must send a heartbeat (sessions without one
# for LIVE_PRESENCE_TIMEOUT_SECONDS are over).
CSN_PLAYBACK_URL_TTL = env_int("CSN_PLAYBACK_URL_TTL", 300)
CSN_PLAYBACK_HEARTBEAT_SECONDS = env_int("CSN_PLAYBACK_HEARTBEAT_SECONDS", 20)
# CloudFront signed URLs: all three set = playback answers https://<domain>/<key> signed with the RSA key
# (PEM text; `\n` may stand for newlines). Otherwise S3 presigned GETs when media is on S3, else a URL
# served by CSN itself (signed with SECRET_KEY).
CSN_CLOUDFRONT_DOMAIN = env_str("CSN_CLOUDFRONT_DOMAIN")
CSN_CLOUDFRONT_KEY_PAIR_ID = env_str("CSN_CLOUDFRONT_KEY_PAIR_ID")
CSN_CLOUDFRONT_PRIVATE_KEY = env_str("CSN_CLOUDFRONT_PRIVATE_KEY").replace("\\n", "\n")
# A live game's stream: `{game_id}` is replaced. A path is a key on the CDN / bucket; an absolute URL is
# used as is. The embedded default plays a public test stream so `make run` plays the demo.
CSN_LIVE_MANIFEST = env_str(
    "CSN_LIVE_MANIFEST",
    "live/{game_id}/master.m3u8" if PRODUCTION else "https://test-streams.mux.dev/x36xhzz/x36xhzz.m3u8",
)
# The viewer's region for blackouts: request headers set by the CDN in front of CSN (e.g. CloudFront's
# CloudFront-Viewer-Country, CloudFront-Viewer-Country-Region, CloudFront-Viewer-Postal-Code). Unset =
# such headers are ignored (a client could send any); the account's verified location is used instead.
CSN_REGION_COUNTRY_HEADER = env_str("CSN_REGION_COUNTRY_HEADER")
CSN_REGION_SUBDIVISION_HEADER = env_str("CSN_REGION_SUBDIVISION_HEADER")
CSN_REGION_POSTAL_HEADER = env_str("CSN_REGION_POSTAL_HEADER")
# A device check-in (POST /api/v1/me/location/) verifies the account's location from those headers for
# this many days; past it the location no longer counts for blackouts until the next check-in.
CSN_LOCATION_VERIFIED_DAYS = env_int("CSN_LOCATION_VERIFIED_DAYS", 30)
# Stripe webhook intake: the endpoint's signing secret (whsec_…); unset = the webhook refuses everything.
STRIPE_WEBHOOK_SECRET = env_str("STRIPE_WEBHOOK_SECRET")
CSN_BILLING_GRACE_DAYS = env_int("CSN_BILLING_GRACE_DAYS", 3)
