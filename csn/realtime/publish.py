"""Publishing live events to topics. Callers are services, inside their transaction.

`publish` stores the event with the topic's next `seq` in the caller's transaction (so a rolled-back
write publishes nothing, and resume can replay it), then fans it out after commit through the hub
(`csn.realtime.hub`): Redis pub/sub across processes when REDIS_URL is set, in-process otherwise.
"""

from datetime import datetime

from django.db import connection, transaction
from django.utils import timezone

from csn.realtime.frames import encode_event
from csn.realtime.hub import fan_out
from csn.realtime.models import LiveEvent, LiveTopicCounter
from csn.realtime.topics import user_topic


def publish(*, topic: str, name: str, data: dict, at: datetime | None = None) -> None:
    """Send `name`/`data` to everyone following `topic`, after the caller's transaction commits. `at`: when
    what it tells happened (a play's wall-clock time), for aligned sockets; default now."""
    publish_many([(topic, name, data, at)] if at is not None else [(topic, name, data)])


def publish_user_event(*, user_id: int, name: str, data: dict) -> None:
    """An event on one user's private `user` topic (their other devices, notifications)."""
    publish(topic=user_topic(user_id), name=name, data=data)


def publish_many(events: list[tuple]) -> None:
    """Publish `(topic, name, data)` or `(topic, name, data, at)` events in two statements whatever their
    number (notification fan-out reaches thousands of users): one upsert allocates each topic's next seqs and keeps its
    counter row locked until commit (so a topic's events commit in seq order and a resume never skips
    one that commits later), one insert stores the events; the fan-out follows the commit."""
    if not events:
        return
    counts: dict[str, int] = {}
    for topic, *_ in events:
        counts[topic] = counts.get(topic, 0) + 1
    topics = sorted(counts)  # one lock order for every writer: no deadlock between two fan-outs
    table = LiveTopicCounter._meta.db_table
    next_by_topic: dict[str, int] = {}
    # No savepoint when nested: a failure here fails the caller's transaction anyway.
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
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
        now = timezone.now()
        adapt_time = connection.ops.adapt_datetimefield_value
        created_at = adapt_time(now)
        adapt_json, encoder = connection.ops.adapt_json_value, LiveEvent._meta.get_field("data").encoder
        for topic, name, data, *timed in events:
            at = timed[0] if timed and timed[0] is not None else now
            seq = next_by_topic[topic]
            next_by_topic[topic] = seq + 1
            rows.append((topic, seq, name, adapt_json(data, encoder), created_at, adapt_time(at)))
            frames.append((topic, seq, encode_event(topic=topic, seq=seq, name=name, data=data), at.timestamp()))
        # A constant INSERT, not bulk_create: this runs on every progress write, and the ORM's
        # per-call compile cost more than the statement.
        for start in range(0, len(rows), 150):  # 6 parameters a row: under SQLite's 999
            chunk = rows[start : start + 150]
            cursor.execute(
                f"INSERT INTO {LiveEvent._meta.db_table} (topic, seq, name, data, created_at, at) "  # noqa: S608
                f"VALUES {', '.join(['(%s, %s, %s, %s, %s, %s)'] * len(chunk))}",
                [value for row in chunk for value in row],
            )

    def send_all():
        for topic, seq, frame, at in frames:
            fan_out(topic=topic, seq=seq, frame=frame, at=at)

    transaction.on_commit(send_all)
