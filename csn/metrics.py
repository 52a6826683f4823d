"""Prometheus metrics of every web process and worker (prometheus-client), and their exposition.

Every metric the project exports is defined here, so the names in `deploy/grafana/csn.json` and
docs/operations.md have one source. Several processes on one host (daphne processes, Celery's prefork
children) share a metrics folder: `PROMETHEUS_MULTIPROC_DIR` set (an empty folder, one per host or pod,
emptied before the processes start) turns on prometheus-client's multiprocess mode, and one scrape adds
every process up. Unset, each process exports its own (the embedded default).

Exposition is never public: `CSN_METRICS_PORT` serves `/metrics` on a port of its own (not routed by the
proxy or the Ingress; the Prometheus scrape target), and `CSN_METRICS_TOKEN` serves `GET /metrics` on the
main port to a bearer of that token (`csn.views.metrics`); with neither, there is no `/metrics`.
"""

import asyncio
import contextvars
import logging
import os
import threading
import time
import weakref

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
    start_http_server,
)

logger = logging.getLogger(__name__)

MULTIPROCESS = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

# --- HTTP ------------------------------------------------------------------------------------------
http_request_duration = Histogram(
    "csn_http_request_duration_seconds",
    "HTTP request latency, by route pattern, method and status.",
    ["route", "method", "status"],
    buckets=LATENCY_BUCKETS,
)
http_refused = Counter(
    "csn_http_refused_total",
    "HTTP requests refused as overload (503 overloaded), by the bound they met (csn.asgi_http).",
    ["bound"],
)

# --- Live gateway and hub --------------------------------------------------------------------------
live_sockets = Gauge("csn_live_sockets_open", "Open websockets.", multiprocess_mode="livesum")
live_subscriptions = Gauge(
    "csn_live_subscriptions",
    "Topic subscriptions of open websockets, by topic kind.",
    ["kind"],
    multiprocess_mode="livesum",
)
live_fanout_lag = Histogram(
    "csn_live_fanout_lag_seconds",
    "From an event's publish (after commit) to its write to the local sockets, by topic kind.",
    ["kind"],
    buckets=LATENCY_BUCKETS,
)
live_hub_queue = Gauge(
    "csn_live_hub_queue_frames",
    "Frames waiting: behind sockets whose send suspended (queued), or for a topic's next pass (pending).",
    ["queue"],
    multiprocess_mode="livesum",
)
live_slow_reader_cutoffs = Counter("csn_live_slow_reader_cutoffs_total", "Sockets cut off as slow readers.")
live_drain_reconnects = Counter("csn_live_drain_reconnects_total", "Sockets told to reconnect by a drain.")
event_loop_lag = Gauge(
    "csn_event_loop_lag_seconds", "How late the event loop ran a timer, last sample.", multiprocess_mode="livemax"
)
live_shed_level = Gauge(
    "csn_live_shed_level",
    "Load shedding level of the live gateway (0 none .. 3 most; csn.realtime.load).",
    multiprocess_mode="livemax",
)
live_shed_events = Counter(
    "csn_live_shed_events_total", "Live event deliveries shed under load, by what was shed.", ["what"]
)
live_shed_summed = Counter(
    "csn_live_shed_summed_total",
    "Live events held back under load and added into a later one of their topic (once per event, not per socket).",
    ["what"],
)

# --- Database pool ---------------------------------------------------------------------------------
db_pool_connections = Gauge(
    "csn_db_pool_connections", "Pooled database connections, by state.", ["state"], multiprocess_mode="livesum"
)
db_pool_waiting = Gauge(
    "csn_db_pool_waiting", "Requests waiting for a pooled connection now.", multiprocess_mode="livesum"
)
db_pool_waits = Counter("csn_db_pool_waits_total", "Connection requests that had to wait for the pool.")
db_pool_wait_seconds = Counter("csn_db_pool_wait_seconds_total", "Time spent waiting for pooled connections.")

# --- Analytics outbox ------------------------------------------------------------------------------
outbox_backlog = Gauge(
    "csn_outbox_backlog",
    "Analytics events waiting in the outbox, by status.",
    ["status"],
    multiprocess_mode="mostrecent",
)
outbox_oldest_age = Gauge(
    "csn_outbox_oldest_age_seconds", "Age of the oldest pending outbox row.", multiprocess_mode="mostrecent"
)

# --- Celery ----------------------------------------------------------------------------------------
celery_tasks = Counter("csn_celery_tasks_total", "Celery tasks run, by task and outcome.", ["task", "outcome"])
celery_task_duration = Histogram(
    "csn_celery_task_duration_seconds", "Celery task run time, by task.", ["task"], buckets=LATENCY_BUCKETS
)

# --- Retention -------------------------------------------------------------------------------------
retention_deleted = Counter("csn_retention_deleted_total", "Rows deleted by the retention jobs, by what.", ["what"])


# --- Exposition ------------------------------------------------------------------------------------
def registry() -> CollectorRegistry:
    """What a scrape reads: every process of this host in multiprocess mode, else this process."""
    if not MULTIPROCESS:
        return REGISTRY
    collected = CollectorRegistry()
    multiprocess.MultiProcessCollector(collected)
    return collected


def exposition() -> tuple[bytes, str]:
    return generate_latest(registry()), CONTENT_TYPE_LATEST


def serve_port(port: int | None, addr: str = "0.0.0.0") -> bool:  # noqa: S104 (a pod's scrape address)
    """Serve /metrics on `port` in a thread of this process. Where several processes of one host share
    the metrics folder, the first to bind serves them all; the others log it and go on."""
    if not port:
        return False
    try:
        start_http_server(port, addr=addr, registry=registry())
    except OSError as exc:
        logger.info("metrics: port %s not served by this process (%s)", port, exc)
        return False
    logger.info("metrics: serving /metrics on %s:%s", addr, port)
    return True


def process_exited(pid: int | None = None) -> None:
    """Drop an ended process's live gauges (multiprocess mode)."""
    if MULTIPROCESS:
        multiprocess.mark_process_dead(pid or os.getpid())


# --- HTTP latency ----------------------------------------------------------------------------------
class HttpMetricsMiddleware:
    """Times every request by its route pattern (not its path: ids would make a series each)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        route = ("/" + match.route) if match is not None and match.route else "unmatched"
        http_request_duration.labels(route, request.method, str(response.status_code)).observe(
            time.perf_counter() - started
        )
        return response


# --- Samplers: what is read, not counted -----------------------------------------------------------
def db_pool_sample() -> None:
    """The process's psycopg pools (Django's PostgreSQL backend keeps them per alias)."""
    try:
        from django.db.backends.postgresql.base import DatabaseWrapper
    except Exception:  # psycopg missing: SQLite only
        return
    in_use = idle = waiting = 0
    for pool in list(DatabaseWrapper._connection_pools.values()):
        stats = pool.pop_stats()
        size, available = stats.get("pool_size", 0), stats.get("pool_available", 0)
        in_use += size - available
        idle += available
        waiting += stats.get("requests_waiting", 0)
        db_pool_waits.inc(stats.get("requests_queued", 0))
        db_pool_wait_seconds.inc(stats.get("requests_wait_ms", 0) / 1000)
    db_pool_connections.labels("in_use").set(in_use)
    db_pool_connections.labels("idle").set(idle)
    db_pool_waiting.set(waiting)


async def loop_sampler(interval: float = 1.0, on_sample=None) -> None:
    """Runs on a server's event loop: its lag (how late a timer fires), the pool, `on_sample(lag)`."""
    loop = asyncio.get_running_loop()
    while True:
        expected = loop.time() + interval
        await asyncio.sleep(interval)
        lag = max(0.0, loop.time() - expected)
        event_loop_lag.set(lag)
        try:
            await asyncio.to_thread(db_pool_sample)
            if on_sample is not None:
                on_sample(lag)
        except Exception:
            logger.warning("metrics: sampling failed", exc_info=True)


_sampler_lock = threading.Lock()
_sampler_loops: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Task]" = weakref.WeakKeyDictionary()


def ensure_loop_sampler(on_sample=None) -> None:
    """Start `loop_sampler` on the running loop, once per loop."""
    loop = asyncio.get_running_loop()
    with _sampler_lock:
        if loop in _sampler_loops:
            return
        # A context of its own: not the request id of the work that happened to start it.
        _sampler_loops[loop] = loop.create_task(loop_sampler(on_sample=on_sample), context=contextvars.Context())
