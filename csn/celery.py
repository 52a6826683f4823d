"""The Celery app. Configured for at-least-once work: late acks, reject on worker loss."""

import os
import time

from celery import Celery, signals
from kombu.transport import redis as kombu_redis
from redis.exceptions import ConnectionError as RedisConnectionError

import csn.db as db
import csn.metrics as metrics
import csn.requestid as requestid

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "csn.settings")


class RedisChannel(kombu_redis.Channel):
    """kombu's Redis channel, surviving the broker's loss.

    When the worker loses Redis it collects the broken connection, which detaches the transport from
    it (`transport.client = None`), then closes it; closing the channel restores its unacknowledged
    messages and, with the pool already dropped, builds a new one from `connection.client.hostname`:
    `AttributeError`, not a connection error, so the worker's restart loop does not catch it and the
    worker exits ("Unrecoverable error", kombu 5.7.0, the newest release). Here it is a connection
    error: the close gives up on Redis (the unacked messages stay in Redis and come back after the
    visibility timeout) and the worker reconnects.
    """

    def _connparams(self, asynchronous=False):
        if self.connection.client is None:
            raise RedisConnectionError("the broker connection is closed")
        return super()._connparams(asynchronous=asynchronous)


class RedisTransport(kombu_redis.Transport):
    """`CELERY_BROKER_TRANSPORT` with Redis: kombu's transport with the channel above."""

    Channel = RedisChannel


app = Celery("csn")
app.config_from_object("django.conf:settings", namespace="CELERY")
# streaming's tasks live in its parts (one app, several `tasks` modules).
EXTRA_TASK_PACKAGES = ["streaming.live", "streaming.fans"]
app.autodiscover_tasks()
app.autodiscover_tasks(EXTRA_TASK_PACKAGES)


# --- Queuing by name ------------------------------------------------------------------------------
# A service queues its app's tasks by name, never by importing the tasks module (which imports the
# services: an import cycle). In eager mode (no broker) a name runs in-process only if its task is
# registered; an unknown name is sent to an in-memory broker no one reads, and the task silently never
# runs. A worker imports every tasks module when it starts; any other process (web, shell, tests) does
# when it first queues a task whose module it has not imported yet.


def tasks_import() -> None:
    """Import every app's tasks module now, registering its tasks (idempotent). Needs the app registry."""
    app.autodiscover_tasks(force=True)
    app.autodiscover_tasks(EXTRA_TASK_PACKAGES, force=True)


def task_queue(name: str, *args) -> None:
    """Queue the task called `name` with `args` after the current transaction commits (at once outside
    one): run in-process in eager mode, else sent to the broker for a worker."""
    from django.db import transaction

    if name not in app.tasks:
        tasks_import()
        if name not in app.tasks:  # a typo, or a tasks module not autodiscovered: fail loudly, now
            raise LookupError(f"no Celery task is registered as {name!r}")
    transaction.on_commit(lambda: app.signature(name, args=args).apply_async())


# --- Request ids, metrics and traces of tasks ------------------------------------------------------
# A task queued while handling a request carries the request's id in its headers and runs under it, so
# its log lines name the request. Each run is counted by task and outcome and timed (csn.metrics).
REQUEST_ID_HEADER = "csn_request_id"


@signals.before_task_publish.connect
def _request_id_send(headers=None, **_):
    request_id = requestid.current()
    if request_id and headers is not None:
        headers[REQUEST_ID_HEADER] = request_id


@signals.task_prerun.connect
def _task_started(task_id=None, task=None, **_):
    # Queued from a request: its id. Run eagerly (embedded default): the caller's, still current.
    request_id = requestid.sane(getattr(task.request, REQUEST_ID_HEADER, None)) or requestid.current() or task_id
    task.request.csn_context = (requestid.bind(request_id), db.work_started(), time.perf_counter())


@signals.task_postrun.connect
def _task_finished(task=None, state=None, **_):
    context = getattr(task.request, "csn_context", None)
    if context is None:
        return
    token, work, started = context
    task.request.csn_context = None
    db.work_ended(work)
    metrics.celery_tasks.labels(task.name, (state or "unknown").lower()).inc()
    metrics.celery_task_duration.labels(task.name).observe(time.perf_counter() - started)
    requestid.unbind(token)


@signals.worker_init.connect
def _worker_metrics(**_):
    from django.conf import settings

    metrics.serve_port(settings.METRICS_PORT, settings.METRICS_ADDR)


@signals.worker_process_init.connect
def _worker_process_traces(**_):
    import csn.telemetry as telemetry

    telemetry.setup(celery=True)


@signals.worker_process_shutdown.connect
def _worker_process_gone(pid=None, **_):
    metrics.process_exited(pid)
