"""Viewer state: watch progress, My List, playlists. Tables keep the `streaming_` names."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from content.models import Content

# A reading at or past this share of the runtime counts as watched to the end.
COMPLETION_THRESHOLD_PERCENT = 90.0


class WatchProgress(models.Model):
    """Where one user is in one item. One row per (user, content), written by one upsert statement.

    `recorded_at` is the device's timestamp of the stored reading: a reading older than it (another
    device wrote later) is ignored, so progress never moves back because of delivery order.
    `last_watched_at` is the server time the stored reading arrived (Continue Watching order).
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="watch_progress")
    content = models.ForeignKey(Content, on_delete=models.CASCADE, related_name="+")
    position_seconds = models.FloatField()
    duration_seconds = models.FloatField()
    completion_percentage = models.FloatField()
    completed = models.BooleanField(default=False)
    recorded_at = models.DateTimeField()
    # Device timestamp of the reading that crossed the threshold; cleared when a later reading is below it.
    completed_at = models.DateTimeField(null=True, blank=True)
    first_watched_at = models.DateTimeField()
    last_watched_at = models.DateTimeField()

    class Meta:
        verbose_name_plural = "watch progress"
        constraints = [
            models.UniqueConstraint(fields=["user", "content"], name="progress_user_content_uniq"),
            models.CheckConstraint(condition=Q(position_seconds__gte=0), name="progress_position_gte_0"),
            models.CheckConstraint(condition=Q(duration_seconds__gt=0), name="progress_duration_gt_0"),
            models.CheckConstraint(
                condition=Q(completion_percentage__gte=0) & Q(completion_percentage__lte=100),
                name="progress_percentage_range",
            ),
        ]
        indexes = [
            # Continue Watching: the user's unfinished items, newest first.
            models.Index(
                fields=["user", "-last_watched_at", "-id"], name="progress_continue_idx", condition=Q(completed=False)
            ),
            # History: everything the user watched, newest first.
            models.Index(fields=["user", "-last_watched_at", "-id"], name="progress_history_idx"),
        ]

    def __str__(self):
        return f"{self.user_id} @ {self.content_id}: {self.completion_percentage:.0f}%"


class MyListItem(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="my_list")
    content = models.ForeignKey(Content, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "content"], name="mylist_user_content_uniq")]
        indexes = [models.Index(fields=["user", "-created_at", "-id"], name="mylist_user_created_idx")]

    def __str__(self):
        return f"{self.user_id}: {self.content_id}"


class Playlist(models.Model):
    """A user's ordered list of items. Private unless shared; a shared one is readable by its link token."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="playlists")
    title = models.CharField(max_length=100)
    # Set while shared; a fresh token on every share, so unsharing revokes old links for good.
    share_token = models.CharField(max_length=64, unique=True, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["user", "-updated_at", "-id"], name="playlist_user_updated_idx")]

    def __str__(self):
        return self.title

    @property
    def is_shared(self) -> bool:
        return bool(self.share_token)


class PlaylistItem(models.Model):
    playlist = models.ForeignKey(Playlist, on_delete=models.CASCADE, related_name="items")
    content = models.ForeignKey(Content, on_delete=models.CASCADE, related_name="+")
    position = models.PositiveIntegerField()
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["position", "id"]
        constraints = [models.UniqueConstraint(fields=["playlist", "content"], name="playlistitem_uniq")]
        indexes = [models.Index(fields=["playlist", "position"], name="playlistitem_position_idx")]

    def __str__(self):
        return f"{self.playlist_id}#{self.position}: {self.content_id}"
