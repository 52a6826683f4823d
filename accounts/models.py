from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.db import models
from django.db.models import Q
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

    def access_ends_at(self):
        """When the plan stops granting: its period's end; past due (a renewal payment failed: the
        provider has already moved the period on), the grace (CSN_BILLING_GRACE_DAYS) from when it
        became past due."""
        if self.status != self.Status.PAST_DUE:
            return self.current_period_end
        return (self.updated_at or timezone.now()) + timedelta(days=settings.CSN_BILLING_GRACE_DAYS)

    @property
    def is_premium_active(self) -> bool:
        if self.plan != self.Plan.PREMIUM or self.status == self.Status.CANCELED:
            return False
        ends_at = self.access_ends_at()
        return ends_at is None or ends_at > timezone.now()


# --- products and entitlements --------------------------------------------------------------
# Accounts sits below the catalogue: rules name catalogue rows by id and sport code, not by foreign key
# (content/services/rights.py matches them against items and games).

# What a rule's `content_type` may name: the catalogue's item types, and `live` for a game's live stream.
LIVE_STREAM = "live"


class Product(models.Model):
    """Something a viewer can hold: a subscription plan, a league or sport pass, a team pass, a single
    game. Its rules say what it unlocks; `max_streams` how many streams its holder may watch at once."""

    class Kind(models.TextChoices):
        PLAN = "plan", "Subscription plan"
        LEAGUE_PASS = "league_pass", "League or sport pass"
        TEAM_PASS = "team_pass", "Team pass"
        SINGLE_GAME = "single_game", "Single game"

    code = models.SlugField(max_length=60, unique=True)
    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    max_streams = models.PositiveSmallIntegerField(default=1, help_text="Concurrent streams its holder may watch")
    pass_days = models.PositiveIntegerField(
        null=True, blank=True, help_text="A one-off purchase lasts this many days (blank: until revoked)"
    )
    stripe_price_id = models.CharField(max_length=100, blank=True, help_text="Billing: the Stripe price it sells as")
    is_active = models.BooleanField(default=True, help_text="Offered for sale (held entitlements keep working)")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["stripe_price_id"], condition=~Q(stripe_price_id=""), name="product_stripe_price_uniq"
            )
        ]

    def __str__(self):
        return self.name


class ProductRule(models.Model):
    """One rule of a product: it unlocks every premium item and live stream matching all its non-blank
    criteria (a rule with none unlocks everything). A product unlocks the union of its rules."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="rules")
    sport = models.CharField(max_length=16, blank=True, help_text="Sport (league) code, e.g. basketball")
    team_id = models.PositiveBigIntegerField(null=True, blank=True, help_text="Catalogue team id (home or away)")
    game_id = models.PositiveBigIntegerField(null=True, blank=True, help_text="Catalogue game id")
    content_type = models.CharField(
        max_length=16, blank=True, help_text="An item type (full_game, highlight, …) or `live` for live streams"
    )

    def __str__(self):
        parts = [
            f"{name} {value}"
            for name, value in (
                ("sport", self.sport),
                ("team", self.team_id),
                ("game", self.game_id),
                ("type", self.content_type),
            )
            if value
        ]
        return ", ".join(parts) or "everything"

    def key(self) -> tuple:
        return (self.sport, self.team_id, self.game_id, self.content_type)


class Entitlement(models.Model):
    """A user holds a product from `starts_at` until `ends_at` (open-ended when null) unless revoked.
    A user's rights are the union of their entitlements in force."""

    class Source(models.TextChoices):
        ADMIN = "admin", "Granted by staff"
        PLAN = "plan", "Subscription plan"
        BILLING = "billing", "Billing"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="entitlements")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="entitlements")
    source = models.CharField(max_length=16, choices=Source.choices)
    starts_at = models.DateTimeField(default=timezone.now)
    ends_at = models.DateTimeField(null=True, blank=True)
    # Billing: the provider's object (subscription or checkout session) and the time of the newest event
    # applied to it, so an older event arriving late changes nothing.
    external_id = models.CharField(max_length=120, blank=True)
    external_updated_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user", "ends_at"], condition=Q(revoked_at=None), name="entitlement_user_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "external_id", "product"],
                condition=~Q(external_id=""),
                name="entitlement_external_uniq",
            )
        ]

    def __str__(self):
        return f"{self.product} for {self.user_id}"


class EntitlementLog(models.Model):
    """Every grant, change and revocation of an entitlement: who (staff, billing, the plan), when, why."""

    class Action(models.TextChoices):
        GRANT = "grant", "Granted"
        CHANGE = "change", "Changed"
        REVOKE = "revoke", "Revoked"

    entitlement = models.ForeignKey(Entitlement, on_delete=models.CASCADE, related_name="log")
    action = models.CharField(max_length=16, choices=Action.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.TextField()
    ends_at = models.DateTimeField(null=True, blank=True, help_text="The end date after this change")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.get_action_display()}: {self.reason}"


class VerifiedLocation(models.Model):
    """Where the account was verified to be: the region used for blackouts when no trusted CDN header
    says where the viewer is. A device check-in (`POST /api/v1/me/location/`) records the region the
    trusted CDN header of that request gave, for `CSN_LOCATION_VERIFIED_DAYS`; staff may set one by hand
    (no end unless they give one). Past `expires_at` it no longer counts: check in again."""

    class Source(models.TextChoices):
        CHECK_IN = "check_in", "Device check-in (the CDN's header)"
        STAFF = "staff", "Set by staff"

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="verified_location")
    country = models.CharField(max_length=2, help_text="ISO 3166-1 alpha-2, e.g. US")
    subdivision = models.CharField(max_length=6, blank=True, help_text="ISO 3166-2 code without the country, e.g. CA")
    postal_code = models.CharField(max_length=12, blank=True)
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.STAFF)
    verified_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True, help_text="It stops counting then (blank: never)")

    def __str__(self):
        return "-".join(p for p in (self.country, self.subdivision) if p) + (
            f" {self.postal_code}" if self.postal_code else ""
        )

    def is_fresh(self, now=None) -> bool:
        return self.expires_at is None or self.expires_at > (now or timezone.now())


# --- billing intake ---------------------------------------------------------------------------


class BillingCustomer(models.Model):
    """The billing provider's customer of a user."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="billing_customer")
    stripe_customer_id = models.CharField(max_length=100, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return self.stripe_customer_id


class BillingEvent(models.Model):
    """Each webhook event once (by its id): replays are acknowledged and ignored. An event for a
    customer not yet known waits (`pending`) and is applied when the customer's user becomes known."""

    class Status(models.TextChoices):
        APPLIED = "applied", "Applied"
        PENDING = "pending", "Waiting for its customer"
        IGNORED = "ignored", "Ignored"

    event_id = models.CharField(max_length=100, unique=True)
    type = models.CharField(max_length=80)
    created = models.DateTimeField(help_text="When the provider created the event")
    customer_id = models.CharField(max_length=100, blank=True, db_index=True)
    status = models.CharField(max_length=16, choices=Status.choices)
    note = models.CharField(max_length=200, blank=True)
    payload = models.JSONField()
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created", "-id"]

    def __str__(self):
        return f"{self.type} {self.event_id}"


class AuthToken(models.Model):
    """One signed-in device (or app session) of the API. The client holds the secret; only its SHA-256
    digest is stored. A token ends when it expires, when it is revoked (sign-out, revoked from the device
    list, a new password, a deactivated account, a replaced secret presented for a refresh) or, for its old
    secret, when it is refreshed (after a grace of `ACCOUNTS_TOKEN_REFRESH_GRACE_SECONDS`): the row stays
    for `ACCOUNTS_TOKEN_KEEP_ENDED_SECONDS` so a client presenting an ended secret learns why."""

    class Reason(models.TextChoices):
        SIGNED_OUT = "signed_out", "Signed out on the device"
        REVOKED = "revoked", "Revoked from another device"
        PASSWORD_CHANGED = "password_changed", "Password changed"
        DEACTIVATED = "deactivated", "Account deactivated"
        REUSED = "reused", "A replaced secret was presented for a refresh (reuse detected)"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="auth_tokens")
    digest = models.CharField(max_length=64, unique=True)
    # The secret the last refresh replaced: it works for a grace after the refresh, then presenting it
    # answers `token_refreshed` (`token_reused` at the refresh endpoint), not `invalid_token`.
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
