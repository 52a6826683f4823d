"""What a fan follows and what they are told: favorite teams and players, notifications, announcements.
Tables keep their first names (`accounts_*`): they moved here from `accounts` by a state-only migration."""

from django.conf import settings
from django.db import models
from django.utils import timezone


class FavoriteTeam(models.Model):
    """A team the user follows; drives game-live and new-content notifications."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="favorite_teams")
    team = models.ForeignKey("content.Team", on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "accounts_favoriteteam"
        constraints = [models.UniqueConstraint(fields=["user", "team"], name="favteam_user_team_uniq")]
        indexes = [
            models.Index(fields=["user", "-created_at", "-id"], name="favteam_user_created_idx"),
            # Finding the fans of a team when it plays or gets new content.
            models.Index(fields=["team"], name="favteam_team_idx"),
        ]

    def __str__(self):
        return f"{self.user_id} follows team {self.team_id}"


class FavoritePlayer(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="favorite_players")
    player = models.ForeignKey("content.Player", on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "accounts_favoriteplayer"
        constraints = [models.UniqueConstraint(fields=["user", "player"], name="favplayer_user_player_uniq")]
        indexes = [
            models.Index(fields=["user", "-created_at", "-id"], name="favplayer_user_created_idx"),
            models.Index(fields=["player"], name="favplayer_player_idx"),
        ]

    def __str__(self):
        return f"{self.user_id} follows player {self.player_id}"


class Notification(models.Model):
    class Kind(models.TextChoices):
        GAME_LIVE = "game_live", "A favorite team's game is live"
        NEW_CONTENT = "new_content", "New content for a favorite"
        ANNOUNCEMENT = "announcement", "Announcement"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)
    # Same event, same user, one notification (a game that goes live twice notifies once).
    dedupe_key = models.CharField(max_length=64, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "accounts_notification"
        indexes = [
            models.Index(fields=["user", "-created_at", "-id"], name="notification_user_created_idx"),
            models.Index(fields=["user"], name="notification_unread_idx", condition=models.Q(read_at__isnull=True)),
            models.Index(  # retention
                fields=["read_at"], name="notification_read_idx", condition=models.Q(read_at__isnull=False)
            ),
            models.Index(
                fields=["user", "dedupe_key"], name="notification_dedupe_idx", condition=~models.Q(dedupe_key="")
            ),
        ]

    def __str__(self):
        return f"{self.kind} for {self.user_id}: {self.title}"


class Announcement(models.Model):
    """A staff broadcast. Saving one in admin notifies every user who has not opted out."""

    title = models.CharField(max_length=200)
    body = models.TextField()
    sender = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    recipient_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "accounts_announcement"
        ordering = ["-created_at"]

    def __str__(self):
        return self.title
