"""Process health (/healthz says the process answers, /readyz that its dependencies do), and the
API's not-found answer."""

import hmac
import logging

from django.conf import settings
from django.db import connection
from django.http import FileResponse, HttpResponse, HttpResponsePermanentRedirect, JsonResponse
from django.urls import is_valid_path
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt

from csn import metrics as csn_metrics
from csn.api.errors import json_404
from csn.realtime import drain

logger = logging.getLogger(__name__)


@never_cache
def healthz(request):
    return JsonResponse({"status": "ok"})


def _check_database() -> str | None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return None
    except Exception as exc:  # any failure means not ready
        logger.warning("readyz: database unreachable: %s", exc)
        return "unreachable"


def _check_redis() -> str | None:
    import redis

    try:
        client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1)
        client.ping()
        client.close()
        return None
    except Exception as exc:
        logger.warning("readyz: redis unreachable: %s", exc)
        return "unreachable"


@never_cache
def readyz(request):
    checks = {"database": _check_database()}
    if settings.REDIS_URL:
        checks["redis"] = _check_redis()
    if drain.draining:  # SIGTERM: leaving; route new work to the other processes
        checks["draining"] = "draining"
    ready = all(error is None for error in checks.values())
    body = {
        "status": "ok" if ready else ("draining" if drain.draining else "unavailable"),
        "checks": {name: ("ok" if error is None else error) for name, error in checks.items()},
    }
    return JsonResponse(body, status=200 if ready else 503)


@never_cache
def metrics(request):
    """Prometheus exposition on the main port, only to a bearer of CSN_METRICS_TOKEN (else a 404, as
    for any unknown path: its existence is not told)."""
    token = settings.METRICS_TOKEN
    given = request.headers.get("Authorization", "")
    if not token or not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        return json_404(request)
    body, content_type = csn_metrics.exposition()
    return HttpResponse(body, content_type=content_type)


@csrf_exempt  # as every API view: a token client's POST gets the JSON 404, not the CSRF failure page
def api_not_found(request):
    """Any path under /api/ that no route takes: the API's JSON 404, also with DEBUG on (where Django
    would answer its HTML debug page instead of calling handler404). A path missing only its final
    slash is redirected as Django's APPEND_SLASH does (this route matches it, so CommonMiddleware cannot)."""
    path = request.path_info
    if settings.APPEND_SLASH and not path.endswith("/"):
        match = is_valid_path(f"{path}/")
        if match and match.func is not api_not_found:
            return HttpResponsePermanentRedirect(request.get_full_path(force_append_slash=True))
    return json_404(request)


def api_changelog(request):
    """docs/changelog.md as served text: what changed in the API, what is deprecated and its sunset (the
    `Link` of a `Deprecation` answer points here)."""
    return FileResponse(
        open(settings.BASE_DIR / "docs" / "changelog.md", "rb"), content_type="text/markdown; charset=utf-8"
    )
