"""The realtime event log: each topic's last seq and every event published on it (what resume replays).
Tables keep their first names (`streaming_*`): they moved here from `streaming` by a state-only migration."""

from django.db import models


class LiveTopicCounter(models.Model):
    """The last `seq` handed out on a topic. Its row lock serializes writers of one topic, so
    events commit in `seq` order and a resume never skips one that commits later."""

    topic = models.CharField(max_length=64, unique=True)
    seq = models.BigIntegerField(default=0)

    class Meta:
        db_table = "streaming_livetopiccounter"

    def __str__(self):
        return f"{self.topic}@{self.seq}"


class LiveEvent(models.Model):
    """Every event published on a topic, written before fan-out: what resume replays."""

    topic = models.CharField(max_length=64)
    seq = models.BigIntegerField()
    name = models.CharField(max_length=64)
    data = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)
    # When what the event tells happened (a play's wall-clock time; else its publication): aligned sockets
    # get it once their horizon passes it (csn.realtime.alignment). Null for events stored before it existed.
    at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "streaming_liveevent"
        constraints = [models.UniqueConstraint(fields=["topic", "seq"], name="live_event_topic_seq_uniq")]
        indexes = [models.Index(fields=["created_at"], name="live_event_created_idx")]

    def __str__(self):
        return f"{self.topic}#{self.seq} {self.name}"
