"""Viewing, personal and live data: watch progress, My List, playlists; live events, chat, presence."""

import uuid

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


# --- Live (issue 6): topic event log, chat, presence, play-by-play ---------------------------


class LiveTopicCounter(models.Model):
    """The last `seq` handed out on a topic. Its row lock serializes writers of one topic, so
    events commit in `seq` order and a resume never skips one that commits later."""

    topic = models.CharField(max_length=64, unique=True)
    seq = models.BigIntegerField(default=0)

    def __str__(self):
        return f"{self.topic}@{self.seq}"


class LiveEvent(models.Model):
    """Every event published on a topic, written before fan-out: what resume replays."""

    topic = models.CharField(max_length=64)
    seq = models.BigIntegerField()
    name = models.CharField(max_length=64)
    data = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["topic", "seq"], name="live_event_topic_seq_uniq")]
        indexes = [models.Index(fields=["created_at"], name="live_event_created_idx")]

    def __str__(self):
        return f"{self.topic}#{self.seq} {self.name}"


class GameChat(models.Model):
    """Per-game chat settings: staff may open chat before the game is live; slow mode."""

    game = models.OneToOneField("content.Game", on_delete=models.CASCADE, primary_key=True, related_name="chat")
    opened_early = models.BooleanField(default=False, help_text="Open chat before the game goes live")
    slow_mode_seconds = models.PositiveIntegerField(default=0, help_text="Seconds between two messages of one user")
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"chat of game {self.game_id}"


class ChatMessage(models.Model):
    """A live chat message (the seed's live_chat_messages): author name and avatar denormalized."""

    game = models.ForeignKey("content.Game", on_delete=models.CASCADE, related_name="chat_messages")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="chat_messages")
    user_name = models.CharField(max_length=80)
    user_avatar = models.URLField(max_length=500, blank=True)
    text = models.TextField()
    # The client's `ref`: a resent message with the same ref is not posted twice.
    client_ref = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    deleted_at = models.DateTimeField(null=True, blank=True)
    deleted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["game", "-created_at"], name="chat_game_created_idx"),
            models.Index(fields=["user", "-created_at"], name="chat_user_created_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "game", "client_ref"], condition=~Q(client_ref=""), name="chat_user_ref_uniq"
            )
        ]

    def __str__(self):
        return f"{self.user_name}: {self.text[:40]}"


class ChatMute(models.Model):
    """A moderator silenced a user in one game's chat until `until`."""

    game = models.ForeignKey("content.Game", on_delete=models.CASCADE, related_name="chat_mutes")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="chat_mutes")
    until = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["game", "user", "-until"], name="chat_mute_lookup_idx")]

    def __str__(self):
        return f"mute {self.user_id} in {self.game_id} until {self.until:%H:%M}"


class LiveSession(models.Model):
    """A client watching a live game (the seed's live_stream_sessions), kept alive by heartbeats."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    game = models.ForeignKey("content.Game", on_delete=models.CASCADE, related_name="live_sessions")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="live_sessions")
    device = models.CharField(max_length=40, blank=True)
    started_at = models.DateTimeField(auto_now_add=True)
    last_heartbeat_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["game", "last_heartbeat_at"], condition=Q(ended_at=None), name="live_open_game_idx"),
            models.Index(fields=["user", "last_heartbeat_at"], condition=Q(ended_at=None), name="live_open_user_idx"),
            models.Index(fields=["last_heartbeat_at"], condition=Q(ended_at=None), name="live_open_stale_idx"),
        ]

    def __str__(self):
        return f"session {self.id} of {self.user_id} on {self.game_id}"


class GameEvent(models.Model):
    """One play-by-play entry posted by a scorekeeper, with the game state it left behind."""

    game = models.ForeignKey("content.Game", on_delete=models.CASCADE, related_name="live_events")
    description = models.CharField(max_length=280, blank=True)
    status = models.CharField(max_length=16)
    home_score = models.PositiveIntegerField()
    away_score = models.PositiveIntegerField()
    period = models.CharField(max_length=16, blank=True)
    clock = models.CharField(max_length=16, blank=True)
    changed = models.JSONField(default=list, help_text="Which game fields this event changed")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["game", "-created_at"], name="game_event_game_idx")]

    def __str__(self):
        return f"game {self.game_id} {self.home_score}-{self.away_score} {self.description[:30]}"


# --- end Live ---------------------------------------------------------------------------------
