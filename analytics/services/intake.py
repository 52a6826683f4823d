"""Intake: events enter the outbox in the caller's transaction and a delivery is asked for after
commit, so a rolled-back use case or request emits nothing."""

import json
import uuid as uuid_lib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from analytics import catalogue
from analytics.models import OutboxEvent
from analytics.services import scheduling
from csn.errors import ApplicationError
from csn.text import printable


def _outbox_row(*, name, distinct_id, properties, timestamp, now, context=None, event_uuid=None) -> OutboxEvent:
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


def server_event_record(*, name: str, distinct_id: str | int, properties: dict, timestamp=None) -> OutboxEvent:
    """Queue a server event of the catalogue; called only by `analytics.events`.

    Strict: a name that is not a server event of the catalogue, or properties that do not match it,
    raise ValueError, so the use case's tests catch the mistake instead of PostHog receiving it.
    """
    spec = catalogue.EVENTS.get(name)
    if spec is None or spec.source != catalogue.SERVER:
        raise ValueError(f"{name!r} is not a server event of analytics/catalogue.py")
    problems = catalogue.property_errors(spec, properties)
    if problems:
        raise ValueError(f"analytics event {name!r} does not match the catalogue: {problems}")
    row = _outbox_row(
        name=name, distinct_id=distinct_id, properties=properties, timestamp=timestamp, now=timezone.now()
    )
    row.save(force_insert=True)
    transaction.on_commit(scheduling.request_delivery, robust=True)
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
    try:
        parsed = parse_datetime(value) if isinstance(value, str) else None
    except ValueError:  # well-formed but impossible: "2026-02-30T00:00:00Z", an offset past 24 h
        parsed = None
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
        errors[printable(key)] = [{"code": "unknown_field", "message": f"Events have no field {printable(key)}."}]
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
            # An unknown property's name is client text: a lone surrogate in it could not be sent back.
            errors[f"properties.{printable(prop)}"] = [{**p, "message": printable(p["message"])} for p in problems]
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
        transaction.on_commit(scheduling.request_delivery, robust=True)
    return IntakeResult(accepted=len(valid), errors=errors)


@transaction.atomic
def outbox_retry_dead(*, ids: list[int] | None = None) -> int:
    """Put dead rows (all, or these) back in the queue with a fresh set of attempts, due now.
    Returns how many."""
    dead = OutboxEvent.objects.filter(status=OutboxEvent.Status.DEAD)
    if ids is not None:
        dead = dead.filter(pk__in=ids)
    count = dead.update(status=OutboxEvent.Status.PENDING, attempts=0, next_attempt_at=timezone.now())
    if count:
        transaction.on_commit(scheduling.request_delivery, robust=True)
    return count
