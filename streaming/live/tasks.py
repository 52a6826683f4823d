"""Periodic live jobs. Thin: they call services."""

from celery import shared_task

from streaming.live.services import presence, retention


@shared_task(name="streaming.presence_close_stale")
def presence_close_stale() -> int:
    return presence.presence_close_stale()


@shared_task(name="streaming.chat_messages_prune")
def chat_messages_prune() -> int:
    return retention.chat_messages_prune()


@shared_task(name="streaming.live_sessions_prune")
def live_sessions_prune() -> int:
    return retention.live_sessions_prune()
