"""Publishing live events to topics. Callers are services, inside their transaction.

This is the interface other apps use; the live gateway owns how events are stored and fanned out.
"""

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction


def topic_group(topic: str) -> str:
    """Channel-layer group name for a topic (allowed characters only: `game:7` -> `topic.game.7`)."""
    return "topic." + topic.replace(":", ".")


def _send(topic: str, name: str, data: dict) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    async_to_sync(layer.group_send)(
        topic_group(topic), {"type": "topic.event", "topic": topic, "name": name, "data": data}
    )


def publish(*, topic: str, name: str, data: dict) -> None:
    """Send `name`/`data` to everyone following `topic`, after the caller's transaction commits."""
    transaction.on_commit(lambda: _send(topic, name, data))


def publish_user_event(*, user_id: int, name: str, data: dict) -> None:
    """An event on one user's private `user` topic (their other devices, notifications)."""
    publish(topic=f"user:{user_id}", name=name, data=data)
