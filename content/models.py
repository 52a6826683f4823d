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
    # The id a roster file gives the player: importing the file again updates, never duplicates.
    external_id = models.CharField(max_length=64, null=True, blank=True, unique=True)
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

    # The id a schedule file gives the game: importing the file again updates, never duplicates.
    external_id = models.CharField(max_length=64, null=True, blank=True, unique=True)
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
    reveals_result = models.BooleanField(
        default=False, help_text="Shows the game's result (highlights, recaps): hidden from spoiler-safe viewers"
    )
    teams = models.ManyToManyField(Team, blank=True, related_name="content")
    players = models.ManyToManyField(Player, blank=True, related_name="content")
    state = models.CharField(max_length=16, choices=State.choices, default=State.DRAFT)
    published_at = models.DateTimeField(null=True, blank=True)
    review_note = models.TextField(blank=True, help_text="Why a reviewer sent it back to draft")
    # Scheduling (content.services.scheduling): beat publishes an item in review at `publish_at` and
    # unpublishes a published one at `unpublish_at`, as the publisher who scheduled it.
    publish_at = models.DateTimeField("publish at", null=True, blank=True)
    unpublish_at = models.DateTimeField("unpublish at", null=True, blank=True)
    scheduled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
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
            models.Index(fields=["publish_at"], condition=Q(publish_at__isnull=False), name="content_publish_at_idx"),
            models.Index(
                fields=["unpublish_at"], condition=Q(unpublish_at__isnull=False), name="content_unpublish_at_idx"
            ),
        ]
        # Workflow rights; "Editors" and "Publishers" hold them (data migration 0002).
        permissions = [
            ("submit_content", "Can submit content for review"),
            ("publish_content", "Can approve, reject, publish, unpublish and archive content"),
        ]

    def __str__(self):
        return self.title


class SpoilerPreference(models.Model):
    """A viewer's spoiler-safe mode: results hidden until reached or revealed, for every game or for the
    games of chosen teams (content.spoilers)."""

    class Mode(models.TextChoices):
        OFF = "off", "Off"
        ALL = "all", "Every game"
        TEAMS = "teams", "Games of chosen teams"

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="spoiler_preference")
    mode = models.CharField(max_length=8, choices=Mode.choices, default=Mode.OFF)
    teams = models.ManyToManyField(Team, blank=True, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"spoilers of {self.user_id}: {self.mode}"


class GameSpoiler(models.Model):
    """One viewer's choice for one game: watching it later (results hidden whatever the mode), or revealed
    (results shown whatever the mode)."""

    class State(models.TextChoices):
        WATCH_LATER = "watch_later", "Watching later"
        REVEALED = "revealed", "Revealed"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="game_spoilers")
    game = models.ForeignKey(Game, on_delete=models.CASCADE, related_name="+")
    state = models.CharField(max_length=16, choices=State.choices)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "game"], name="game_spoiler_user_game_uniq")]

    def __str__(self):
        return f"{self.user_id} / game {self.game_id}: {self.state}"


class ContentDraft(models.Model):
    """Changes to a published item waiting for review: the live item stays on air until a publisher
    publishes the draft, which applies the changes (content.services.drafts)."""

    class State(models.TextChoices):
        DRAFT = "draft", "Draft"
        IN_REVIEW = "in_review", "In review"

    content = models.OneToOneField(Content, on_delete=models.CASCADE, related_name="pending_draft")
    # Field name -> value as JSON (a link by its id, a date as ISO 8601); the fields editors set.
    changes = models.JSONField(default=dict)
    state = models.CharField(max_length=16, choices=State.choices, default=State.DRAFT)
    review_note = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "draft revision"

    def __str__(self):
        return f"draft revision of {self.content}"


class ContentEditor(models.Model):
    """Someone with an item's page open in the Studio (one row per browser socket), kept alive by the
    page; rows older than STUDIO_EDITOR_TIMEOUT_SECONDS no longer count (content.services.presence)."""

    content = models.ForeignKey(Content, on_delete=models.CASCADE, related_name="editors")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    socket = models.CharField(max_length=200)  # the socket's Channels name
    seen_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["content", "socket"], name="content_editor_socket_uniq")]
        indexes = [models.Index(fields=["content", "seen_at"], name="content_editor_seen_idx")]

    def __str__(self):
        return f"{self.user_id} on content {self.content_id}"


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


class MediaRendition(models.Model):
    """One size and format of an image asset, made with Pillow (content.services.renditions)."""

    asset = models.ForeignKey(MediaAsset, on_delete=models.CASCADE, related_name="renditions")
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    format = models.CharField(max_length=8)  # "webp" or "jpeg"
    file = models.FileField(upload_to="renditions/%Y/%m/", max_length=500)
    size_bytes = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["width", "format"]
        constraints = [
            models.UniqueConstraint(fields=["asset", "width", "format"], name="media_rendition_uniq"),
        ]

    def __str__(self):
        return f"{self.width}x{self.height} {self.format}"


class ImportJob(models.Model):
    """A CSV of games or players, checked (dry run) and then imported (content.services.imports)."""

    class Kind(models.TextChoices):
        GAMES = "games", "Games (schedule)"
        PLAYERS = "players", "Players (roster)"

    class Status(models.TextChoices):
        CHECKING = "checking", "Checking"
        CHECKED = "checked", "Checked: ready to import"
        INVALID = "invalid", "Refused: errors in the file"
        IMPORTING = "importing", "Importing"
        DONE = "done", "Imported"
        FAILED = "failed", "Failed"

    kind = models.CharField(max_length=16, choices=Kind.choices)
    file = models.FileField(upload_to="imports/%Y/%m/", max_length=500)
    original_name = models.CharField(max_length=255, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.CHECKING)
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    error_count = models.PositiveIntegerField(default=0)
    # The first errors, [{"row": n, "column": name, "message": text}], and the first rows as they would be saved.
    errors = models.JSONField(default=list, blank=True)
    preview = models.JSONField(default=list, blank=True)
    message = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "CSV import"

    def __str__(self):
        return f"{self.get_kind_display()} from {self.original_name or self.file.name}"


class ContentAuditLog(models.Model):
    class Action(models.TextChoices):
        CREATE = "create", "Created"
        EDIT = "edit", "Edited"
        TRANSITION = "transition", "Transition"
        RESTORE = "restore", "Restored a revision"
        SCHEDULE = "schedule", "Scheduled"
        DRAFT = "draft", "Draft revision"

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

    # A draft revision of a published item, by (from, to): "" is no draft revision.
    DRAFT_WORDS = {
        ("", "draft"): "Draft revision started",
        ("draft", "draft"): "Draft revision edited",
        ("draft", "in_review"): "Draft revision submitted for review",
        ("in_review", "draft"): "Draft revision sent back",
        ("in_review", "published"): "Draft revision published",
        ("draft", ""): "Draft revision discarded",
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
        fields = get_text_list([_field_label(name) for name in self.changed_fields], "and")
        if self.action == self.Action.EDIT:
            return f"Changed {fields}"
        if self.action == self.Action.RESTORE:
            return f"Restored an earlier revision (changed {fields})" if fields else "Restored an earlier revision"
        if self.action == self.Action.SCHEDULE:
            return f"Schedule set ({fields})"
        if self.action == self.Action.DRAFT:
            words = self.DRAFT_WORDS.get((self.from_state, self.to_state), "Draft revision changed")
            return f"{words} ({fields})" if fields else words
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
