import uuid

from django.db import models


class OutboxEvent(models.Model):
    """An analytics event waiting for delivery to PostHog. Deleted once PostHog accepted it."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DEAD = "dead", "Dead (gave up)"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=64)
    distinct_id = models.CharField(max_length=64)
    properties = models.JSONField(default=dict)
    # Request context captured at intake (device, app version); used by enrichment.
    context = models.JSONField(default=dict, blank=True)
    timestamp = models.DateTimeField()
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="outbox_due_idx")]

    def __str__(self):
        return f"{self.name} {self.uuid}"
