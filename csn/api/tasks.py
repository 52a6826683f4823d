"""Periodic upkeep of the API's idempotency keys. Thin."""

from celery import shared_task

from csn.api.idempotency import idempotency_keys_prune


@shared_task(name="api.idempotency_keys_prune")
def idempotency_keys_prune_task() -> int:
    return idempotency_keys_prune()
