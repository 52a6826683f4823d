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


def topic_replay(*, topic: str, since: int) -> list[tuple[int, str, dict]] | None:
    """Events after `since`, oldest first; None when they are no longer all kept (resnapshot)."""
    seq = current_seq(topic)
    if since > seq or seq - since > settings.LIVE_REPLAY_LIMIT:
        return None
    rows = list(
        LiveEvent.objects.filter(topic=topic, seq__gt=since, seq__lte=seq)
        .order_by("seq")
        .values_list("seq", "name", "data")
    )
    if len(rows) != seq - since:  # pruned, or a gap: the client needs a fresh snapshot
        return None
    return rows


def events_prune() -> int:
    """Resume needs only recent events; older clients get a fresh snapshot. In bounded batches."""
    cutoff = timezone.now() - timedelta(hours=settings.LIVE_EVENT_RETENTION_HOURS)
    return delete_in_batches(LiveEvent.objects.filter(created_at__lt=cutoff), what="live_events")
