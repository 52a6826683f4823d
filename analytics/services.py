"""The analytics gateway: every event enters through the outbox and leaves through `outbox_deliver`.

Write side: `track` (server use cases) and `client_events_record` (apps, via the intake API) write
outbox rows in the caller's transaction and ask for a delivery after commit. Delivery side:
`outbox_deliver` leases due rows, enriches them from the database, sends them to PostHog in batches
and deletes them only once PostHog accepted them; failures back off and end as `dead` rows.
"""

import json
import logging
import random
import threading
import time
import uuid as uuid_lib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache
from django.db import connection, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from analytics import catalogue
from analytics.models import OutboxEvent
from csn.errors import ApplicationError

logger = logging.getLogger(__name__)
event_log = logging.getLogger("analytics.events")


# --- write side -------------------------------------------------------------------------------


def _outbox_row(*, name, distinct_id, properties, context, timestamp, now, event_uuid=None) -> OutboxEvent:
    row = OutboxEvent(
        name=name,
        distinct_id=str(distinct_id),
        properties=properties or {},
        context=context or {},
        timestamp=timestamp or now,
        next_attempt_at=now,
    )
    if event_uuid is not None:
        row.uuid = event_uuid
    return row


def track(
    *,
    name: str,
    distinct_id: str,
    properties: dict | None = None,
    context: dict | None = None,
    timestamp=None,
) -> OutboxEvent:
    """Queue an analytics event in the caller's transaction: a rolled-back use case emits nothing.

    Server events are checked against the catalogue; a mismatch is logged, never raised, because an
    analytics typo must not fail a sign-up or a publish. Delivery is requested after commit.
    """
    spec = catalogue.EVENTS.get(name)
    if spec is None:
        logger.warning("analytics event %r is not in analytics/catalogue.py", name)
    else:
        problems = catalogue.property_errors(spec, properties or {}, allow_unknown=True)
        if problems:
            logger.warning("analytics event %r does not match the catalogue: %s", name, problems)
    row = _outbox_row(
        name=name,
        distinct_id=distinct_id,
        properties=properties,
        context=context,
        timestamp=timestamp,
        now=timezone.now(),
    )
    row.save(force_insert=True)
    transaction.on_commit(request_delivery, robust=True)
    return row


@dataclass
class IntakeResult:
    accepted: int
    errors: dict[str, list[dict]] = field(default_factory=dict)

    @property
    def rejected(self) -> int:
        return len({key.split(".")[1] for key in self.errors})


def _parse_timestamp(value, *, now: datetime) -> tuple[datetime | None, dict | None]:
    if value is None:
        return now, None
    parsed = parse_datetime(value) if isinstance(value, str) else None
    if parsed is None:
        return None, {"code": "invalid_timestamp", "message": "timestamp must be an ISO 8601 date-time."}
    if timezone.is_naive(parsed):
        parsed = parsed.replace(tzinfo=UTC)
    if parsed > now + timedelta(seconds=settings.ANALYTICS_MAX_CLOCK_SKEW_SECONDS):
        return None, {"code": "timestamp_in_future", "message": "timestamp is in the future."}
    if parsed < now - timedelta(seconds=settings.ANALYTICS_MAX_EVENT_AGE_SECONDS):
        return None, {"code": "timestamp_too_old", "message": "timestamp is too far in the past."}
    return parsed, None


@dataclass(frozen=True)
class ClientEvent:
    """One app event that passed the catalogue's checks."""

    name: str
    properties: dict
    timestamp: datetime
    uuid: uuid_lib.UUID | None


def _client_event_errors(item, *, now: datetime) -> tuple[ClientEvent | None, dict[str, list[dict]]]:
    """One app event -> (event, {}) or (None, {field: [errors]})."""
    if not isinstance(item, dict):
        return None, {"non_field_errors": [{"code": "invalid", "message": "An event must be an object."}]}
    errors: dict[str, list[dict]] = {}
    unknown_keys = set(item) - {"name", "properties", "timestamp", "uuid"}
    for key in sorted(unknown_keys):
        errors[key] = [{"code": "unknown_field", "message": f"Events have no field {key}."}]
    name = item.get("name")
    spec = catalogue.EVENTS.get(name) if isinstance(name, str) else None
    if spec is None:
        errors["name"] = [{"code": "unknown_event", "message": f"{name!r} is not a known event."}]
    elif spec.source != catalogue.CLIENT:
        errors["name"] = [{"code": "server_only_event", "message": f"{name} is sent by the server only."}]
    properties = item.get("properties", {})
    if not isinstance(properties, dict):
        errors["properties"] = [{"code": "invalid", "message": "properties must be an object."}]
    elif spec is not None and spec.source == catalogue.CLIENT:
        for prop, problems in catalogue.property_errors(spec, properties).items():
            errors[f"properties.{prop}"] = problems
    timestamp, problem = _parse_timestamp(item.get("timestamp"), now=now)
    if problem:
        errors["timestamp"] = [problem]
    event_uuid = None
    if item.get("uuid") is not None:
        try:
            event_uuid = uuid_lib.UUID(str(item["uuid"]))
        except ValueError:
            errors["uuid"] = [{"code": "invalid", "message": "uuid must be a UUID."}]
    if errors:
        return None, errors
    return ClientEvent(name=name, properties=properties, timestamp=timestamp, uuid=event_uuid), {}


def _outbox_insert(*, events: list[ClientEvent], distinct_id: str, context: dict, now: datetime) -> None:
    """One INSERT for the batch; a uuid already queued is skipped (ON CONFLICT DO NOTHING)."""
    if connection.vendor != "postgresql":
        rows = [
            _outbox_row(
                name=event.name,
                distinct_id=distinct_id,
                properties=event.properties,
                context=context,
                timestamp=event.timestamp,
                now=now,
                event_uuid=event.uuid,
            )
            for event in events
        ]
        OutboxEvent.objects.bulk_create(rows, ignore_conflicts=True)
        return
    # PostgreSQL: the batch travels as one jsonb parameter. bulk_create would prepare each field of
    # each row and quote eleven arrays on the client, about 90 us of CPU per event (bench analytics).
    batch = [
        {
            "uuid": str(event.uuid or uuid_lib.uuid4()),
            "name": event.name,
            "properties": event.properties,
            "timestamp": event.timestamp.isoformat(),
        }
        for event in events
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            _PG_INSERT_SQL,
            [distinct_id, json.dumps(context), OutboxEvent.Status.PENDING, now, now, json.dumps(batch)],
        )


# Columns as OutboxEvent declares them (a test compares the row with one written by the ORM).
_PG_INSERT_SQL = """
INSERT INTO "analytics_outboxevent" ("uuid", "name", "distinct_id", "properties", "context", "timestamp",
    "status", "attempts", "next_attempt_at", "last_error", "created_at")
SELECT e."uuid", e."name", %s, e."properties", %s::jsonb, e."timestamp", %s, 0, %s, '', %s
FROM jsonb_to_recordset(%s::jsonb) AS e("uuid" uuid, "name" text, "properties" jsonb, "timestamp" timestamptz)
ON CONFLICT DO NOTHING
"""


def client_events_record(*, user, events: list, context: dict) -> IntakeResult:
    """Validate a batch of app events against the catalogue and queue the valid ones.

    The distinct id is always the authenticated user. Each invalid event is reported under
    `events.<index>.<field>`; the others are accepted. If none is valid, nothing is written and an
    ApplicationError (400) carries every problem. An event re-sent with the same `uuid` (an app
    retrying a batch) is accepted once.
    """
    now = timezone.now()
    valid: list[ClientEvent] = []
    errors: dict[str, list[dict]] = {}
    for index, item in enumerate(events):
        event, problems = _client_event_errors(item, now=now)
        if problems:
            for key, items in problems.items():
                errors[f"events.{index}.{key}"] = items
            continue
        valid.append(event)
    if not valid:
        raise ApplicationError("No event in the batch is valid.", code="invalid", fields=errors)
    with transaction.atomic():
        _outbox_insert(events=valid, distinct_id=str(user.pk), context=context, now=now)
        transaction.on_commit(request_delivery, robust=True)
    return IntakeResult(accepted=len(valid), errors=errors)


def request_delivery() -> None:
    """Ask a worker to deliver soon. Never fails the caller: a broker that is down only delays
    delivery until the periodic sweep. With a broker, asks are coalesced to one per
    ANALYTICS_KICK_SECONDS (the task starts that much later, so it sees every row committed meanwhile)."""
    if settings.CELERY_TASK_ALWAYS_EAGER:
        try:
            _deliver_without_broker()
        except Exception:  # the rows stay; the next ask delivers them
            logger.exception("analytics: in-process delivery failed")
        return
    global _last_queued
    now = time.monotonic()
    if now - _last_queued < settings.ANALYTICS_KICK_SECONDS:
        return  # the task this process queued starts after this commit: no Redis round trip
    try:
        if not cache.add(_DELIVERY_KEY, 1, timeout=settings.ANALYTICS_KICK_SECONDS):
            # Another process asked within the window. Its task starts when the key expires or later
            # (it queued after adding the key, with the same countdown), so it covers this commit and
            # every commit until then: stay quiet until that moment instead of asking Redis again on
            # every request.
            _last_queued = now - settings.ANALYTICS_KICK_SECONDS + _seconds_left(_DELIVERY_KEY)
            return
    except Exception as exc:  # a cache on a Redis that is down: ask anyway
        logger.warning("analytics: cache unavailable while requesting delivery: %s", exc)
    if _queue_task(countdown=settings.ANALYTICS_KICK_SECONDS):
        _last_queued = now


# When this process last queued a delayed delivery (time.monotonic()).
_last_queued = float("-inf")
_DELIVERY_KEY = "analytics:delivery-requested"


def _seconds_left(key: str) -> float:
    """How long the cache keeps `key` (0 when unknown: not Redis, or gone)."""
    if not isinstance(caches["default"], RedisCache):
        return 0.0
    milliseconds = cache_redis_client().pttl(cache.make_and_validate_key(key))
    return min(max(milliseconds, 0) / 1000, settings.ANALYTICS_KICK_SECONDS)


_redis_clients: dict = {}


def cache_redis_client():
    """The default cache's Redis client, one per process: the cache builds a new client object (with
    its ~200 response callbacks) on every call; the connection pool behind it is thread-safe."""
    backend = caches["default"]
    location = backend._cache._servers[0]
    if location not in _redis_clients:
        _redis_clients[location] = backend._cache.get_client(write=True)
    return _redis_clients[location]


def request_delivery_now() -> None:
    """A delivery run that ran out of time with rows still due hands over to a fresh task."""
    _queue_task(countdown=0)


def _queue_task(*, countdown: float) -> bool:
    from analytics import tasks
    from csn.celery import app as celery_app

    try:
        # With the broker down, fail at once instead of holding the request: no publish retry, and a
        # connection of its own that does not retry connecting (the pooled one retries for seconds).
        # Asks are coalesced, so a connection per ask is cheap.
        with celery_app.connection_for_write(transport_options={"max_retries": 0}) as conn:
            tasks.deliver_outbox.apply_async(countdown=countdown, retry=False, connection=conn)
        return True
    except Exception as exc:
        logger.warning("analytics: could not queue delivery, the periodic sweep will deliver: %s", exc)
        return False


_in_process_requested = threading.Event()
_in_process_running = threading.Lock()


def _deliver_without_broker() -> None:
    """No broker (embedded default): the log sink runs in-process; a real PostHog is sent to from a
    thread, so a request never waits on PostHog even in development."""
    _in_process_requested.set()
    if not settings.POSTHOG_API_KEY:
        _drain_in_process()
        return

    def run():
        try:
            _drain_in_process()
        finally:
            connection.close()

    threading.Thread(target=run, name="analytics-delivery", daemon=True).start()


def _drain_in_process() -> None:
    """One drain at a time per process: a request that finds one running leaves its rows to it (the
    running drain loops while deliveries were asked for), so concurrent requests do not all queue on
    SQLite's single writer."""
    while True:
        if not _in_process_running.acquire(blocking=False):
            return
        try:
            while _in_process_requested.is_set():
                _in_process_requested.clear()
                outbox_deliver()
        finally:
            _in_process_running.release()
        if not _in_process_requested.is_set():
            return


# --- delivery side ----------------------------------------------------------------------------


class DeliveryError(Exception):
    """PostHog did not accept a batch. `permanent` errors (400, 413) are about the batch's content;
    its rows are then sent one by one so a single bad event cannot hold back the others."""

    def __init__(self, message: str, *, permanent: bool = False):
        super().__init__(message)
        self.permanent = permanent


class LogSender:
    """Embedded default (no POSTHOG_API_KEY): events go to the log, so `make run` shows them."""

    def send(self, messages: list[dict]) -> None:
        for msg in messages:
            event_log.info(
                "analytics event %s distinct_id=%s uuid=%s timestamp=%s properties=%s",
                msg["event"],
                msg["distinct_id"],
                msg["uuid"],
                msg["timestamp"],
                msg["properties"],
            )


class PostHogSender:
    """Synchronous batch upload through the posthog SDK's `/batch/` call.

    The SDK's Client queue drops events when full and retries a few times on its own, and its
    sync_mode posts one event per request and swallows errors; `batch_post` sends a whole batch in
    one request and raises when PostHog refuses it, which is what a retrying outbox needs.
    """

    def __init__(self, *, api_key: str, host: str, timeout: float):
        self.api_key, self.host, self.timeout = api_key, host, timeout

    def send(self, messages: list[dict]) -> None:
        from posthog.request import APIError, batch_post

        try:
            batch_post(self.api_key, self.host, batch=messages, timeout=self.timeout, gzip=True)
        except APIError as exc:
            # 400/413 are about the batch's content; 401 (wrong key), 429, 5xx are not.
            permanent = exc.status in (400, 413)
            message = f"PostHog answered {exc.status}: {str(exc.message)[:200]}"
            raise DeliveryError(self._redact(message), permanent=permanent) from exc
        except Exception as exc:  # connection refused, timeout, DNS...
            raise DeliveryError(self._redact(f"{type(exc).__name__}: {str(exc)[:300]}")) from exc

    def _redact(self, message: str) -> str:
        """Errors are shown in admin: keep the host and key out of them."""
        host = urlsplit(self.host).hostname or self.host
        for secret in (self.api_key, self.host, host):
            if secret:
                message = message.replace(secret, "<posthog>")
        return message


def default_sender():
    if not settings.POSTHOG_API_KEY:
        return LogSender()
    return PostHogSender(
        api_key=settings.POSTHOG_API_KEY, host=settings.POSTHOG_HOST, timeout=settings.ANALYTICS_SEND_TIMEOUT_SECONDS
    )


def _sdk_library() -> dict:
    from posthog.version import VERSION

    return {"$lib": "posthog-python", "$lib_version": VERSION}


def _content_id(properties: dict) -> int | None:
    """The item an event is about: video events say `video_id`, catalogue events `content_id`."""
    for key in ("video_id", "content_id"):
        value = properties.get(key)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    return None


def _enrichment(rows: list[OutboxEvent]) -> tuple[dict, dict]:
    """Content facts by id and plans by user id for a batch: two queries, whatever its size."""
    from accounts.models import Subscription
    from content.models import Content

    content_ids = {content_id for row in rows if (content_id := _content_id(row.properties)) is not None}
    user_ids = {int(row.distinct_id) for row in rows if row.distinct_id.isdigit()}
    contents = {}
    if content_ids:
        contents = {
            c["id"]: c
            for c in Content.objects.filter(pk__in=content_ids).values(
                "id", "title", "type", "year", "tags", "is_premium"
            )
        }
    plans = {}
    if user_ids:
        for sub in Subscription.objects.filter(user_id__in=user_ids):
            plans[str(sub.user_id)] = Subscription.Plan.PREMIUM if sub.is_premium_active else Subscription.Plan.FREE
    return contents, plans


def outbox_message(row: OutboxEvent, *, contents: dict, plans: dict, library: dict) -> dict:
    """The PostHog event for a row: its own uuid and original timestamp, enriched properties."""
    properties = dict(row.properties)
    content = contents.get(_content_id(properties))
    if content is not None:
        properties.update(
            content_title=content["title"],
            content_type=content["type"],
            content_year=content["year"],
            content_tags=content["tags"],
            content_is_premium=content["is_premium"],
        )
    if row.distinct_id in plans:
        properties["user_plan"] = plans[row.distinct_id]
    context = row.context or {}
    if context.get("app_version"):
        properties["$app_version"] = context["app_version"]
    if context.get("device"):
        properties["device"] = context["device"]
    if context.get("user_agent"):
        properties["$raw_user_agent"] = context["user_agent"]
    properties.update(library)
    # Events come from our server, not the user's address: never geolocate the server.
    properties["$geoip_disable"] = True
    return {
        "event": row.name,
        "distinct_id": row.distinct_id,
        "properties": properties,
        "timestamp": row.timestamp.isoformat(),
        "uuid": str(row.uuid),
        "type": "capture",
    }


def retry_delay_seconds(attempts: int) -> float:
    """Exponential backoff with jitter after the `attempts`-th failure, capped (and so always below
    the broker's visibility timeout): half the step fixed, half random."""
    step = min(settings.ANALYTICS_RETRY_MAX_SECONDS, settings.ANALYTICS_RETRY_BASE_SECONDS * 2 ** (attempts - 1))
    return step / 2 + random.uniform(0, step / 2)


@dataclass
class DeliveryResult:
    sent: int = 0
    failed: int = 0
    dead: int = 0
    batches: int = 0
    more: bool = False


def _lease(batch_size: int, now: datetime) -> list[OutboxEvent]:
    """Due rows, locked for this transaction. SKIP LOCKED: a second relay takes other rows instead of
    waiting or sending the same ones. On SQLite the IMMEDIATE transaction already serializes relays."""
    due = OutboxEvent.objects.filter(status=OutboxEvent.Status.PENDING, next_attempt_at__lte=now).order_by(
        "next_attempt_at", "id"
    )
    if connection.features.has_select_for_update_skip_locked:
        due = due.select_for_update(skip_locked=True)
    return list(due[:batch_size])


def _record_failure(rows: list[OutboxEvent], error: str, now: datetime, result: DeliveryResult) -> None:
    max_attempts = settings.ANALYTICS_MAX_ATTEMPTS
    for row in rows:
        row.attempts += 1
        row.last_error = error[:1000]
        if row.attempts >= max_attempts:
            row.status = OutboxEvent.Status.DEAD
            result.dead += 1
        else:
            row.next_attempt_at = now + timedelta(seconds=retry_delay_seconds(row.attempts))
        result.failed += 1
    OutboxEvent.objects.bulk_update(rows, ["attempts", "last_error", "status", "next_attempt_at"])


def _deliver_batch(rows: list[OutboxEvent], sender, now: datetime, result: DeliveryResult) -> None:
    contents, plans = _enrichment(rows)
    library = _sdk_library()
    messages = [outbox_message(row, contents=contents, plans=plans, library=library) for row in rows]
    try:
        sender.send(messages)
    except DeliveryError as exc:
        if not exc.permanent or len(rows) == 1:
            logger.warning("analytics: batch of %d not delivered: %s", len(rows), exc)
            _record_failure(rows, str(exc), now, result)
            return
        # PostHog refused the batch's content: find the bad rows by sending each alone.
        accepted = []
        for row, message in zip(rows, messages, strict=True):
            try:
                sender.send([message])
                accepted.append(row.pk)
            except DeliveryError as single:
                _record_failure([row], str(single), now, result)
        OutboxEvent.objects.filter(pk__in=accepted).delete()
        result.sent += len(accepted)
        return
    # Deleted in the leasing transaction: if we die before commit, the rows come back and are sent
    # again with the same uuids, which PostHog deduplicates.
    OutboxEvent.objects.filter(pk__in=[row.pk for row in rows]).delete()
    result.sent += len(rows)


def outbox_deliver(*, sender=None, batch_size: int | None = None, time_budget: float | None = None) -> DeliveryResult:
    """Deliver due outbox rows until none is due or the time budget is spent (`more` then says so).

    Each batch is leased, sent and deleted (or marked failed) in one transaction, so a crash at any
    point leaves the rows pending for the next run. A row is deleted only after PostHog accepted it.
    """
    sender = sender or default_sender()
    batch_size = batch_size or settings.ANALYTICS_BATCH_SIZE
    budget = settings.ANALYTICS_TASK_TIME_BUDGET_SECONDS if time_budget is None else time_budget
    started = timezone.now()
    result = DeliveryResult()
    while True:
        now = timezone.now()
        if (now - started).total_seconds() > budget:
            result.more = OutboxEvent.objects.filter(
                status=OutboxEvent.Status.PENDING, next_attempt_at__lte=now
            ).exists()
            return result
        with transaction.atomic():
            rows = _lease(batch_size, now)
            if not rows:
                return result
            result.batches += 1
            _deliver_batch(rows, sender, now, result)


@transaction.atomic
def outbox_retry_dead(*, ids: list[int] | None = None) -> int:
    """Give dead rows (all, or these) a fresh set of attempts, due now. Returns how many."""
    dead = OutboxEvent.objects.filter(status=OutboxEvent.Status.DEAD)
    if ids is not None:
        dead = dead.filter(pk__in=ids)
    count = dead.update(status=OutboxEvent.Status.PENDING, attempts=0, next_attempt_at=timezone.now())
    if count:
        transaction.on_commit(request_delivery, robust=True)
    return count
