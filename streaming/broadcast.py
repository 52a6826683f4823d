"""Publishing live events to topics. Callers are services, inside their transaction.

`publish` stores the event with the topic's next `seq` in the caller's transaction (so a rolled-back
write publishes nothing, and resume can replay it), then fans it out after commit through the hub
(`streaming.hub`): Redis pub/sub across processes when REDIS_URL is set, in-process otherwise.
"""

import json

from django.db import IntegrityError, connection, transaction

from streaming.models import LiveEvent, LiveTopicCounter


def public_topic(topic: str) -> str:
    """What clients call a topic: every user's private `user:<id>` is just `user` to its owner."""
    return "user" if topic.startswith("user:") else topic


def encode_event(*, topic: str, seq: int, name: str, data: dict) -> str:
    """The event frame, encoded once for every socket that follows the topic."""
    return json.dumps(
        {"type": "event", "topic": public_topic(topic), "seq": seq, "name": name, "data": data},
        separators=(",", ":"),
        default=str,
    )


def next_seq(topic: str) -> int:
    """Allocate the topic's next seq. The UPDATE keeps the counter row locked until commit."""
    table = LiveTopicCounter._meta.db_table
    with connection.cursor() as cursor:
        # The table name is our model's, not input.
        cursor.execute(f"UPDATE {table} SET seq = seq + 1 WHERE topic = %s RETURNING seq", [topic])  # noqa: S608
        row = cursor.fetchone()
    if row:
        return row[0]
    try:
        with transaction.atomic():
            LiveTopicCounter.objects.create(topic=topic, seq=1)
        return 1
    except IntegrityError:  # another writer created it first: its row now exists, lock and bump it
        return next_seq(topic)


def current_seq(topic: str, *, lock: bool = False) -> int:
    """The topic's last seq. With `lock`, holds writers off until the caller's transaction ends, so a
    snapshot read in that transaction matches the seq exactly."""
    if lock:
        counter, _ = LiveTopicCounter.objects.get_or_create(topic=topic)
        counter = LiveTopicCounter.objects.select_for_update().get(pk=counter.pk)
        return counter.seq
    return LiveTopicCounter.objects.filter(topic=topic).values_list("seq", flat=True).first() or 0


def publish(*, topic: str, name: str, data: dict) -> None:
    """Send `name`/`data` to everyone following `topic`, after the caller's transaction commits."""
    # No savepoint when nested: a failure here fails the caller's transaction anyway.
    with transaction.atomic(savepoint=False):
        seq = next_seq(topic)
        LiveEvent.objects.create(topic=topic, seq=seq, name=name, data=data)
        frame = encode_event(topic=topic, seq=seq, name=name, data=data)

    from streaming.hub import fan_out

    transaction.on_commit(lambda: fan_out(topic=topic, seq=seq, frame=frame))


def publish_user_event(*, user_id: int, name: str, data: dict) -> None:
    """An event on one user's private `user` topic (their other devices, notifications)."""
    publish(topic=f"user:{user_id}", name=name, data=data)
