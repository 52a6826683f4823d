"""Live games: chat and its moderation, viewing sessions (presence), play-by-play."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from streaming.live.patterns import TERM_MAX_LENGTH, term_pattern_check


class GameChat(models.Model):
    """Per-game chat settings: staff may open chat before the game is live; slow mode; who may post
    (gates) and the pinned message."""

    class Mode(models.TextChoices):
        EVERYONE = "everyone", "Everyone signed in"
        PREMIUM = "premium", "Premium subscribers only"
        FANS = "fans", "Fans of either team only"
        EMOTES = "emotes", "Emotes only"

    game = models.OneToOneField("content.Game", on_delete=models.CASCADE, primary_key=True, related_name="chat")
    opened_early = models.BooleanField(default=False, help_text="Open chat before the game goes live")
    slow_mode_seconds = models.PositiveIntegerField(default=0, help_text="Seconds between two messages of one user")
    mode = models.CharField(max_length=16, choices=Mode.choices, default=Mode.EVERYONE)
    min_account_age_minutes = models.PositiveIntegerField(
        default=0, help_text="Accounts younger than this may not post (0: no minimum)"
    )
    first_message_review = models.BooleanField(
        default=False, help_text="Hold for review the message of anyone who never had one published"
    )
    pinned_message = models.ForeignKey(
        "ChatMessage", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"chat of game {self.game_id}"


class ChatMessage(models.Model):
    """A live chat message (the seed's live_chat_messages): author name and avatar denormalized.
    A held message is seen by its author and moderators only until it is approved or rejected."""

    class Status(models.TextChoices):
        PUBLISHED = "published"
        HELD = "held"  # waiting for a moderator
        REJECTED = "rejected"

    game = models.ForeignKey("content.Game", on_delete=models.CASCADE, related_name="chat_messages")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="chat_messages")
    user_name = models.CharField(max_length=80)
    user_avatar = models.URLField(max_length=500, blank=True)
    text = models.TextField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PUBLISHED)
    held_reason = models.CharField(max_length=120, blank=True, help_text="Why it was held (a term, a gate)")
    reply_to = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
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
            models.Index(fields=["game", "-created_at"], condition=Q(status="held"), name="chat_held_idx"),
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


class ChatBan(models.Model):
    """A moderator banned a user from one game's chat, or from every chat (`game` empty), for good."""

    game = models.ForeignKey("content.Game", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="chat_bans")
    reason = models.CharField(max_length=280, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["user", "game"], name="chat_ban_lookup_idx")]

    def __str__(self):
        return f"ban {self.user_id} in {self.game_id or 'every chat'}"


class BannedTerm(models.Model):
    """A word or a regular expression (RE2 syntax, matched in linear time) that blocks or holds a chat
    message; global, or for one game. Matching ignores case; a word matches whole words only."""

    class Action(models.TextChoices):
        BLOCK = "block", "Block (refused)"
        HOLD = "hold", "Hold for review"

    game = models.ForeignKey(
        "content.Game", null=True, blank=True, on_delete=models.CASCADE, related_name="+", help_text="Empty: every game"
    )
    term = models.CharField(max_length=TERM_MAX_LENGTH)
    is_regex = models.BooleanField(default=False, help_text="A regular expression (RE2 syntax) instead of a word")
    action = models.CharField(max_length=8, choices=Action.choices, default=Action.BLOCK)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["term", "id"]
        indexes = [models.Index(fields=["game", "updated_at"], name="banned_term_game_idx")]

    def __str__(self):
        return f"{'/' + self.term + '/' if self.is_regex else self.term} ({self.action})"

    def clean(self):
        from django.core.exceptions import ValidationError

        from csn.errors import ApplicationError

        try:
            term_pattern_check(term=self.term, is_regex=self.is_regex)
        except ApplicationError as exc:
            raise ValidationError({"term": exc.message}) from exc


class ChatReport(models.Model):
    """A viewer reported a message; moderators work the open ones (admin, the `mod:<game>` topic)."""

    class Reason(models.TextChoices):
        SPAM = "spam"
        ABUSE = "abuse", "Abuse or harassment"
        HATE = "hate", "Hate speech"
        SPOILER = "spoiler"
        OTHER = "other"

    class Status(models.TextChoices):
        OPEN = "open"
        ACTIONED = "actioned"
        DISMISSED = "dismissed"

    message = models.ForeignKey(ChatMessage, on_delete=models.CASCADE, related_name="reports")
    game = models.ForeignKey("content.Game", on_delete=models.CASCADE, related_name="+")
    reporter = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="chat_reports")
    reason = models.CharField(max_length=16, choices=Reason.choices)
    note = models.CharField(max_length=280, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    resolution = models.CharField(max_length=32, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [models.UniqueConstraint(fields=["message", "reporter"], name="chat_report_once_uniq")]
        indexes = [
            models.Index(fields=["game", "created_at"], condition=Q(status="open"), name="chat_report_open_idx"),
            models.Index(fields=["reporter", "-created_at"], name="chat_report_reporter_idx"),
        ]

    def __str__(self):
        return f"report of message {self.message_id} ({self.reason}, {self.status})"


class ModerationAction(models.Model):
    """The audit of chat moderation: every moderator action and chat setting change, who, what, when, why."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    action = models.CharField(max_length=32)
    game = models.ForeignKey("content.Game", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    target_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    message = models.ForeignKey(ChatMessage, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    reason = models.CharField(max_length=280, blank=True)
    details = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["-created_at"], name="chat_audit_created_idx"),
            models.Index(fields=["game", "-created_at"], name="chat_audit_game_idx"),
            models.Index(fields=["actor", "-created_at"], name="chat_audit_actor_idx"),
        ]

    def __str__(self):
        return f"{self.action} by {self.actor_id} at {self.created_at:%Y-%m-%d %H:%M}"


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


class Broadcast(models.Model):
    """A game's live stream: where players fetch it, the wall-clock time of its first frame, its DVR window.
    Offsets into the stream (and into the `full_game` recording) count from `started_at`."""

    game = models.OneToOneField("content.Game", on_delete=models.CASCADE, primary_key=True, related_name="broadcast")
    manifest_url = models.URLField(max_length=500, blank=True, help_text="HLS manifest (.m3u8) of the live stream")
    is_premium = models.BooleanField(default=False, help_text="Only premium subscribers get the manifest")
    started_at = models.DateTimeField(
        null=True, blank=True, help_text="Wall-clock time of the first frame; set when the game goes live if empty"
    )
    dvr_window_seconds = models.PositiveIntegerField(default=7200, help_text="How far back viewers may rewind")
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"broadcast of game {self.game_id}"


class GameEvent(models.Model):
    """One play-by-play entry posted by a scorekeeper, with the game state it left behind."""

    class KeyMoment(models.TextChoices):
        GOAL = "goal", "Goal"
        TOUCHDOWN = "touchdown", "Touchdown"
        RED_CARD = "red_card", "Red card"
        PENALTY = "penalty", "Penalty"
        HOME_RUN = "home_run", "Home run"
        OTHER = "other", "Other key moment"

    game = models.ForeignKey("content.Game", on_delete=models.CASCADE, related_name="live_events")
    # Wall-clock time of the play (the scorekeeper's, else the time it was received): its offset into the
    # stream is occurred_at - broadcast.started_at. Aligned sockets get it when their horizon passes it.
    occurred_at = models.DateTimeField(default=timezone.now)
    key_moment = models.CharField(
        max_length=16, blank=True, choices=KeyMoment.choices, help_text="Marks the play for the key-moment timeline"
    )
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
        indexes = [
            models.Index(fields=["game", "-created_at"], name="game_event_game_idx"),
            models.Index(fields=["game", "occurred_at"], name="game_event_occurred_idx"),
        ]

    def __str__(self):
        return f"game {self.game_id} {self.home_score}-{self.away_score} {self.description[:30]}"


class ReactionSecond(models.Model):
    """The reactions to a game in one second (every process's, summed): what the counts frame carried,
    kept so editors see the spikes as suggested key moments."""

    game = models.ForeignKey("content.Game", on_delete=models.CASCADE, related_name="+")
    second = models.DateTimeField()
    counts = models.JSONField(default=dict)
    total = models.PositiveIntegerField()

    class Meta:
        ordering = ["game", "second"]
        constraints = [models.UniqueConstraint(fields=["game", "second"], name="reaction_second_uniq")]
        indexes = [models.Index(fields=["game", "-total"], name="reaction_spike_idx")]

    def __str__(self):
        return f"{self.total} reactions to game {self.game_id} at {self.second:%H:%M:%S}"


class Poll(models.Model):
    """A question to a game's chat with 2 to 5 options, open between two times; results are kept."""

    game = models.ForeignKey("content.Game", on_delete=models.CASCADE, related_name="+")
    question = models.CharField(max_length=200)
    options = models.JSONField(help_text="2 to 5 option texts, in order")
    opens_at = models.DateTimeField()
    closes_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-opens_at", "-id"]
        indexes = [models.Index(fields=["game", "-opens_at"], name="poll_game_idx")]

    def __str__(self):
        return self.question


class PollVote(models.Model):
    """One vote per account; changing it is allowed until the poll closes."""

    poll = models.ForeignKey(Poll, on_delete=models.CASCADE, related_name="votes")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    option = models.PositiveSmallIntegerField()
    voted_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["poll", "user"], name="poll_vote_once_uniq")]

    def __str__(self):
        return f"{self.user_id} voted {self.option} on poll {self.poll_id}"


class Prediction(models.Model):
    """A prediction about a game, resolved from the scorekeeper's play-by-play: who scores next (at the
    next score change), the winner and over/under a total (at the final whistle)."""

    class Kind(models.TextChoices):
        NEXT_SCORE = "next_score", "Who scores next"
        WINNER = "winner"
        OVER_UNDER = "over_under", "Over/under total score"

    class Status(models.TextChoices):
        OPEN = "open"
        LOCKED = "locked"
        RESOLVED = "resolved"
        VOID = "void"  # no outcome (both teams scored in one update, the game ended first)

    CHOICES = {
        Kind.NEXT_SCORE: ["home", "away"],
        Kind.WINNER: ["home", "away", "draw"],
        Kind.OVER_UNDER: ["over", "under"],
    }

    game = models.ForeignKey("content.Game", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    line = models.DecimalField(
        max_digits=7, decimal_places=1, null=True, blank=True, help_text="Over/under: the total score line"
    )
    lock_at_kickoff = models.BooleanField(default=True, help_text="No more picks once the game is live")
    locks_at = models.DateTimeField(null=True, blank=True, help_text="No more picks after this time")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    outcome = models.CharField(max_length=16, blank=True)
    resolved_by = models.ForeignKey(GameEvent, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    resolved_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["game", "status"], name="prediction_game_idx"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} for game {self.game_id} ({self.status})"


class PredictionPick(models.Model):
    """A user's pick; `correct` is set when the prediction resolves (their record)."""

    prediction = models.ForeignKey(Prediction, on_delete=models.CASCADE, related_name="picks")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    choice = models.CharField(max_length=16)
    correct = models.BooleanField(null=True)
    picked_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["prediction", "user"], name="prediction_pick_once_uniq")]
        indexes = [models.Index(fields=["user", "correct"], name="prediction_pick_user_idx")]

    def __str__(self):
        return f"{self.user_id} picked {self.choice} on {self.prediction_id}"
