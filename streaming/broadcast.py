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


def publish_many(events: list[tuple[str, str, dict]]) -> None:
    """Publish many `(topic, name, data)` events in a constant number of queries (notification
    fan-out to thousands of users). Same guarantees as `publish`: stored with each topic's next seqs
    in the caller's transaction, fanned out after commit."""
    if not events:
        return
    counts: dict[str, int] = {}
    for topic, _, _ in events:
        counts[topic] = counts.get(topic, 0) + 1
    topics = sorted(counts)  # one lock order for every writer: no deadlock between two fan-outs
    table = LiveTopicCounter._meta.db_table
    next_by_topic: dict[str, int] = {}
    with transaction.atomic():
        with connection.cursor() as cursor:
            # One upsert per chunk allocates a block of seqs per topic; RETURNING gives each block's
            # last seq. Chunks keep SQLite under its 999-parameter limit.
            for start in range(0, len(topics), 400):
                chunk = topics[start : start + 400]
                values = ", ".join(["(%s, %s)"] * len(chunk))
                cursor.execute(
                    f"INSERT INTO {table} (topic, seq) VALUES {values} "  # noqa: S608 (our table, placeholders)
                    f"ON CONFLICT (topic) DO UPDATE SET seq = {table}.seq + excluded.seq RETURNING topic, seq",
                    [item for topic in chunk for item in (topic, counts[topic])],
                )
                next_by_topic.update({topic: last - counts[topic] + 1 for topic, last in cursor.fetchall()})
        rows, frames = [], []
        for topic, name, data in events:
            seq = next_by_topic[topic]
            next_by_topic[topic] = seq + 1
            rows.append(LiveEvent(topic=topic, seq=seq, name=name, data=data))
            frames.append((topic, seq, encode_event(topic=topic, seq=seq, name=name, data=data)))
        LiveEvent.objects.bulk_create(rows, batch_size=1000)

    from streaming.hub import fan_out

    def send_all():
        for topic, seq, frame in frames:
            fan_out(topic=topic, seq=seq, frame=frame)

    transaction.on_commit(send_all)
