from django.conf import settings
from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.db import models
from django.utils import timezone

from csn.realtime.sessions import credential_id


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


class AuthToken(models.Model):
    """One signed-in device (or app session) of the API. The client holds the secret; only its SHA-256
    digest is stored. A token ends when it expires, when it is revoked (sign-out, revoked from the device
    list, a new password, a deactivated account) or, for its old secret, when it is refreshed: the row
    stays for `ACCOUNTS_TOKEN_KEEP_ENDED_SECONDS` so a client presenting an ended secret learns why."""

    class Reason(models.TextChoices):
        SIGNED_OUT = "signed_out", "Signed out on the device"
        REVOKED = "revoked", "Revoked from another device"
        PASSWORD_CHANGED = "password_changed", "Password changed"
        DEACTIVATED = "deactivated", "Account deactivated"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="auth_tokens")
    digest = models.CharField(max_length=64, unique=True)
    # The secret the last refresh replaced: presenting it answers `token_refreshed`, not `invalid_token`.
    previous_digest = models.CharField(max_length=64, unique=True, null=True, blank=True)
    name = models.CharField(max_length=80, blank=True, help_text="The device, as the client named it.")
    created_at = models.DateTimeField(default=timezone.now)
    refreshed_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.CharField(max_length=32, choices=Reason.choices, blank=True)

    class Meta:
        indexes = [models.Index(fields=["user", "expires_at"], name="accounts_token_user_expires")]

    def __str__(self):
        return f"token {self.pk} of user {self.user_id} ({self.name or 'unnamed'})"

    @property
    def credential(self) -> str:
        """What the gateway's sockets signed in with this token remember (csn.realtime.sessions)."""
        return credential_id("token", str(self.pk))
