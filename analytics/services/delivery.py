"""Delivery: lease due outbox rows, enrich them, send them in batches, delete them only once PostHog
accepted them; failures back off and end as `dead` rows."""

import logging
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from analytics.models import OutboxEvent
from analytics.services.enrichment import EventFacts, batch_extra_properties
from analytics.services.senders import DeliveryError, default_sender

logger = logging.getLogger(__name__)


def _sdk_library() -> dict:
    from posthog.version import VERSION

    return {"$lib": "posthog-python", "$lib_version": VERSION}


def outbox_message(row: OutboxEvent, *, extra: dict, library: dict) -> dict:
    """The PostHog event for a row: its own uuid and original timestamp, its properties plus the
    registered enrichers' `extra` ones and the intake request's context."""
    properties = dict(row.properties)
    properties.update(extra)
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
    extras = batch_extra_properties(
        [EventFacts(distinct_id=row.distinct_id, properties=row.properties) for row in rows]
    )
    library = _sdk_library()
    messages = [outbox_message(row, extra=extra, library=library) for row, extra in zip(rows, extras, strict=True)]
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
