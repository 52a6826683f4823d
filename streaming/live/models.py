"""Live games: chat and its moderation, viewing sessions (presence), play-by-play."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q


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
        permissions = [("moderate_chat", "Can moderate live chat")]
        indexes = [
            models.Index(fields=["game", "-created_at"], name="chat_game_created_idx"),
            models.Index(fields=["user", "-created_at"], name="chat_user_created_idx"),
            models.Index(fields=["created_at"], name="chat_created_idx"),  # retention
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
    """A stream a client is watching, kept alive by heartbeats: a live game (chat presence over the
    gateway, or a player's playback of the live stream: `game`), or an item (a player's playback:
    `content`). Every open one counts against the user's concurrent-stream limit."""

    class EndedReason(models.TextChoices):
        DISCONNECTED = "disconnected"  # its socket closed
        TIMEOUT = "timeout"  # no heartbeat for LIVE_PRESENCE_TIMEOUT_SECONDS
        REPLACED = "replaced"  # another of the user's devices started in its place (stream limit)
        ENDED = "ended"  # the user ended it from another device

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    game = models.ForeignKey(
        "content.Game", null=True, blank=True, on_delete=models.CASCADE, related_name="live_sessions"
    )
    content = models.ForeignKey(
        "content.Content", null=True, blank=True, on_delete=models.CASCADE, related_name="playback_sessions"
    )
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="live_sessions")
    playback = models.BooleanField(default=False, help_text="Started by POST /playback/ (a player), not by presence")
    device = models.CharField(max_length=40, blank=True)
    started_at = models.DateTimeField(auto_now_add=True)
    last_heartbeat_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_reason = models.CharField(max_length=16, blank=True, choices=EndedReason.choices)

    class Meta:
        indexes = [
            models.Index(fields=["game", "last_heartbeat_at"], condition=Q(ended_at=None), name="live_open_game_idx"),
            models.Index(fields=["user", "last_heartbeat_at"], condition=Q(ended_at=None), name="live_open_user_idx"),
            models.Index(fields=["last_heartbeat_at"], condition=Q(ended_at=None), name="live_open_stale_idx"),
            models.Index(fields=["ended_at"], condition=~Q(ended_at=None), name="live_ended_idx"),  # retention
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(game__isnull=False, content__isnull=True) | Q(game__isnull=True, content__isnull=False),
                name="live_session_watches_one",
            )
        ]

    def __str__(self):
        watched = f"game {self.game_id}" if self.game_id else f"content {self.content_id}"
        return f"session {self.id} of {self.user_id} on {watched}"


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
        permissions = [("keep_score", "Can post scores and play-by-play")]
        indexes = [models.Index(fields=["game", "-created_at"], name="game_event_game_idx")]

    def __str__(self):
        return f"game {self.game_id} {self.home_score}-{self.away_score} {self.description[:30]}"
