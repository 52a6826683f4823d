"""The catalogue: teams, players, games, content, media assets, and the editorial audit log."""

from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.db.models import Q
from django.utils.text import get_text_list


class Sport(models.TextChoices):
    BASKETBALL = "basketball", "Basketball"
    FOOTBALL = "football", "Football"
    SOCCER = "soccer", "Soccer"
    VOLLEYBALL = "volleyball", "Volleyball"
    HOCKEY = "hockey", "Hockey"
    BASEBALL = "baseball", "Baseball"


class Team(models.Model):
    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=140, unique=True)
    sport = models.CharField(max_length=16, choices=Sport.choices, db_index=True)
    logo = models.FileField(upload_to="teams/", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["name"], name="team_name_idx")]

    def __str__(self):
        return self.name


class Player(models.Model):
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="players")
    name = models.CharField(max_length=120)
    number = models.PositiveSmallIntegerField(null=True, blank=True)
    position = models.CharField(max_length=40, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["team__name", "number", "name"]
        indexes = [
            models.Index(fields=["team", "name"], name="player_team_name_idx"),
            models.Index(fields=["name"], name="player_name_idx"),
        ]

    def __str__(self):
        return f"{self.name} ({self.team})"


class Game(models.Model):
    class Status(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        LIVE = "live", "Live"
        FINAL = "final", "Final"
        POSTPONED = "postponed", "Postponed"

    home_team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="home_games")
    away_team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="away_games")
    sport = models.CharField(max_length=16, choices=Sport.choices)
    venue = models.CharField(max_length=160, blank=True)
    starts_at = models.DateTimeField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.SCHEDULED)
    home_score = models.PositiveIntegerField(default=0)
    away_score = models.PositiveIntegerField(default=0)
    period = models.CharField(max_length=16, blank=True)
    clock = models.CharField(max_length=16, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-starts_at"]
        indexes = [
            models.Index(fields=["status", "starts_at"], name="game_status_starts_idx"),
            models.Index(fields=["starts_at"], name="game_starts_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(home_team=models.F("away_team")), name="game_teams_differ"),
        ]

    def __str__(self):
        return f"{self.away_team} @ {self.home_team} ({self.starts_at:%Y-%m-%d})"


class Content(models.Model):
    """A watchable item. Only published items inside their availability window reach viewers."""

    class Type(models.TextChoices):
        FULL_GAME = "full_game", "Full game"
        HIGHLIGHT = "highlight", "Highlight"
        SHOW = "show", "Show"
        EPISODE = "episode", "Episode"
        CLIP = "clip", "Clip"

    class State(models.TextChoices):
        DRAFT = "draft", "Draft"
        IN_REVIEW = "in_review", "In review"
        PUBLISHED = "published", "Published"
        ARCHIVED = "archived", "Archived"

    title = models.CharField(max_length=200)
    slug = models.SlugField(max_length=220, unique=True)
    type = models.CharField(max_length=16, choices=Type.choices)
    description = models.TextField(blank=True)
    year = models.PositiveSmallIntegerField(null=True, blank=True)
    runtime_seconds = models.PositiveIntegerField(default=0)
    tags = models.JSONField(default=list, blank=True)
    thumbnail = models.FileField(upload_to="thumbnails/", blank=True)
    video_url = models.URLField(max_length=500, blank=True, help_text="HLS manifest (.m3u8)")
    is_premium = models.BooleanField(default=False)
    available_from = models.DateTimeField(null=True, blank=True)
    available_until = models.DateTimeField(null=True, blank=True)
    game = models.ForeignKey(Game, null=True, blank=True, on_delete=models.SET_NULL, related_name="content")
    teams = models.ManyToManyField(Team, blank=True, related_name="content")
    players = models.ManyToManyField(Player, blank=True, related_name="content")
    state = models.CharField(max_length=16, choices=State.choices, default=State.DRAFT)
    published_at = models.DateTimeField(null=True, blank=True)
    review_note = models.TextField(blank=True, help_text="Why a reviewer sent it back to draft")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "content"
        ordering = ["-published_at", "-id"]
        indexes = [
            models.Index(fields=["state", "-published_at", "-id"], name="content_state_pub_idx"),
            models.Index(fields=["state", "type", "-published_at"], name="content_state_type_idx"),
            models.Index(fields=["state", "year"], name="content_state_year_idx"),
            models.Index(fields=["game"], name="content_game_idx"),
            # Staff lists (API and admin) page by creation date across every state.
            models.Index(fields=["-created_at", "-id"], name="content_created_idx"),
            models.Index(fields=["state", "-created_at"], name="content_state_created_idx"),
        ]
        # Workflow rights; "Editors" and "Publishers" hold them (data migration 0002).
        permissions = [
            ("submit_content", "Can submit content for review"),
            ("publish_content", "Can approve, reject, publish, unpublish and archive content"),
        ]

    def __str__(self):
        return self.title


class MediaAsset(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        UPLOADED = "uploaded", "Uploaded"
        PROCESSING = "processing", "Processing"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"

    file = models.FileField(upload_to="media/%Y/%m/", max_length=500, blank=True)
    original_name = models.CharField(max_length=255, blank=True)
    folder_path = models.CharField(max_length=255, blank=True, help_text="e.g. sports/volleyball/highlights")
    tags = models.JSONField(default=list, blank=True)
    size_bytes = models.BigIntegerField(null=True, blank=True)
    content_type = models.CharField(max_length=100, blank=True)
    checksum_sha256 = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    error = models.TextField(blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    content = models.ForeignKey(Content, null=True, blank=True, on_delete=models.SET_NULL, related_name="media")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["status", "-created_at"], name="media_status_idx"),
            models.Index(fields=["folder_path"], name="media_folder_idx"),
        ]

    def __str__(self):
        return self.original_name or self.file.name or f"asset {self.pk}"


class ContentAuditLog(models.Model):
    class Action(models.TextChoices):
        CREATE = "create", "Created"
        EDIT = "edit", "Edited"
        TRANSITION = "transition", "Transition"

    content = models.ForeignKey(Content, on_delete=models.CASCADE, related_name="audit_log")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    action = models.CharField(max_length=16, choices=Action.choices)
    from_state = models.CharField(max_length=16, blank=True)
    to_state = models.CharField(max_length=16, blank=True)
    changed_fields = models.JSONField(default=list, blank=True)
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["content", "-created_at"], name="audit_content_idx")]

    # Each workflow move in the past tense, by (from state, to state): the moves of
    # content.services.workflow.TRANSITIONS (a test keeps the two in step).
    TRANSITION_WORDS = {
        (Content.State.DRAFT, Content.State.IN_REVIEW): "Submitted for review",
        (Content.State.IN_REVIEW, Content.State.PUBLISHED): "Approved and published",
        (Content.State.IN_REVIEW, Content.State.DRAFT): "Sent back to draft",
        (Content.State.PUBLISHED, Content.State.DRAFT): "Unpublished",
        (Content.State.DRAFT, Content.State.ARCHIVED): "Archived",
        (Content.State.PUBLISHED, Content.State.ARCHIVED): "Archived",
    }

    def __str__(self):
        return f"{self.summary()} by {self.actor_name()}"

    def actor_name(self) -> str:
        if self.actor is None:
            return "a deleted account"
        return self.actor.display_name or self.actor.email

    def summary(self) -> str:
        """What happened, in words: "Created", "Changed title and tags", "Submitted for review (Draft → In
        review)"; states by their labels, fields by their names on the form."""
        if self.action == self.Action.CREATE:
            return "Created"
        if self.action == self.Action.EDIT:
            return f"Changed {get_text_list([_field_label(name) for name in self.changed_fields], 'and')}"
        moved = self.TRANSITION_WORDS.get((self.from_state, self.to_state), "Moved")
        return f"{moved} ({_state_label(self.from_state)} → {_state_label(self.to_state)})"

    def change_message(self) -> str:
        """The summary and the note: one line of the item's history."""
        return f"{self.summary()}. Note: {self.note}" if self.note else f"{self.summary()}."


def _state_label(state: str) -> str:
    return Content.State(state).label if state in Content.State.values else state


def _field_label(name: str) -> str:
    try:
        return str(Content._meta.get_field(name).verbose_name)
    except FieldDoesNotExist:  # a field since removed: its name, readable
        return name.replace("_", " ")
