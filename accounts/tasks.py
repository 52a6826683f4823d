"""Periodic upkeep of API tokens. Thin."""

from celery import shared_task

from accounts import services


@shared_task(name="accounts.tokens_prune")
def tokens_prune() -> int:
    return services.tokens_prune()
