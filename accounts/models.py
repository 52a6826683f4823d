from django.conf import settings
from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.db import models
from django.utils import timezone


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create(self, email, password, **extra):
        if not email:
            raise ValueError("email is required")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra):
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create(email, password, **extra)

    def create_superuser(self, email, password=None, **extra):
        extra.update(is_staff=True, is_superuser=True)
        return self._create(email, password, **extra)


class User(AbstractUser):
    """A person: viewer, editor, publisher, scorekeeper or moderator. Signs in with email."""

    username = None
    email = models.EmailField("email address", unique=True)
    display_name = models.CharField(max_length=80)
    avatar_url = models.URLField(max_length=500, blank=True)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS = ["display_name"]

    objects = UserManager()

    def __str__(self):
        return self.email


class Preferences(models.Model):
    class Language(models.TextChoices):
        EN = "en", "English"
        ES = "es", "Español"
        FR = "fr", "Français"
        DE = "de", "Deutsch"
        PT = "pt", "Português"

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="preferences")
    language = models.CharField(max_length=8, choices=Language.choices, default=Language.EN)
    autoplay = models.BooleanField(default=True)
    notify_game_live = models.BooleanField(default=True)
    notify_new_content = models.BooleanField(default=True)
    notify_announcements = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "preferences"

    def __str__(self):
        return f"preferences of {self.user_id}"


class Subscription(models.Model):
    """The user's plan. Read-only to the user; staff edit it in admin, billing would call the service."""

    class Plan(models.TextChoices):
        FREE = "free", "Free"
        PREMIUM = "premium", "Premium"

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        PAST_DUE = "past_due", "Past due"
        CANCELED = "canceled", "Canceled"

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="subscription")
    plan = models.CharField(max_length=16, choices=Plan.choices, default=Plan.FREE)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    current_period_end = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"{self.plan} ({self.status})"

    @property
    def is_premium_active(self) -> bool:
        if self.plan != self.Plan.PREMIUM or self.status != self.Status.ACTIVE:
            return False
        return self.current_period_end is None or self.current_period_end > timezone.now()


class FavoriteTeam(models.Model):
    """A team the user follows; drives game-live and new-content notifications."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="favorite_teams")
    team = models.ForeignKey("content.Team", on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
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
        indexes = [
            models.Index(fields=["user", "-created_at", "-id"], name="notification_user_created_idx"),
            models.Index(fields=["user"], name="notification_unread_idx", condition=models.Q(read_at__isnull=True)),
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
        ordering = ["-created_at"]

    def __str__(self):
        return self.title
