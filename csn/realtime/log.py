"""Reads and upkeep of the event log: a topic's current seq, replay after a seq, pruning."""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from csn.realtime.models import LiveEvent, LiveTopicCounter
from csn.retention import delete_in_batches


def current_seq(topic: str, *, lock: bool = False) -> int:
    """The topic's last seq. With `lock`, holds writers off until the caller's transaction ends, so a
    snapshot read in that transaction matches the seq exactly."""
    if lock:
        counter, _ = LiveTopicCounter.objects.get_or_create(topic=topic)
        counter = LiveTopicCounter.objects.select_for_update().get(pk=counter.pk)
        return counter.seq
    return LiveTopicCounter.objects.filter(topic=topic).values_list("seq", flat=True).first() or 0


def topic_replay(
    *, topic: str, since: int, until: int | None = None, timed: bool = False, limit: int | None = None
) -> list[tuple] | None:
    """Events after `since` (up to `until`, else the newest), oldest first, as `(seq, name, data)`, with
    `timed` `(seq, name, data, at)` (`at` in epoch seconds); None when they are more than `limit`
    (`LIVE_REPLAY_LIMIT`) or no longer all kept (resnapshot)."""
    seq = current_seq(topic) if until is None else until
    if since > seq or seq - since > (settings.LIVE_REPLAY_LIMIT if limit is None else limit):
        return None
    columns = ("seq", "name", "data", "at", "created_at") if timed else ("seq", "name", "data")
    rows = list(
        LiveEvent.objects.filter(topic=topic, seq__gt=since, seq__lte=seq).order_by("seq").values_list(*columns)
    )
    if len(rows) != seq - since:  # pruned, or a gap: the client needs a fresh snapshot
        return None
    if timed:
        return [(seq, name, data, (at or created).timestamp()) for seq, name, data, at, created in rows]
    return rows


def seq_at(*, topic: str, moment) -> int:
    """The topic's seq as it stood at `moment` (a datetime): the seq before its first event timed after
    it. What an aligned snapshot at a horizon matches."""
    later = LiveEvent.objects.filter(topic=topic, at__gt=moment).order_by("seq").values_list("seq", flat=True).first()
    return current_seq(topic) if later is None else later - 1


def events_prune() -> int:
    """Resume needs only recent events; older clients get a fresh snapshot. In bounded batches."""
    cutoff = timezone.now() - timedelta(hours=settings.LIVE_EVENT_RETENTION_HOURS)
    return delete_in_batches(LiveEvent.objects.filter(created_at__lt=cutoff), what="live_events")
