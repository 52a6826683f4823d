"""Admin for the live area: scorekeepers post game events, moderators act on chat.

Every change goes through the same services as the API, so the broadcast and rules are the same.
"""

from django import forms
from django.contrib import admin, messages

from content.models import Game
from csn.errors import ApplicationError
from streaming.live import chat_admin
from streaming.live.chat_admin import ModeratorsOnly
from streaming.live.models import Broadcast, ChatMessage, ChatMute, GameChat, GameEvent, LiveSession
from streaming.live.permissions import can_keep_score, can_moderate
from streaming.live.services import chat as chat_services
from streaming.live.services import moderation
from streaming.live.services.scores import game_event_record, play_key_moment_set

__all__ = ["chat_admin"]  # its pages register with this module


class GameEventForm(forms.ModelForm):
    home_score = forms.IntegerField(min_value=0, required=False)
    away_score = forms.IntegerField(min_value=0, required=False)
    status = forms.ChoiceField(
        choices=[("", "(unchanged)"), (Game.Status.LIVE, "Live"), (Game.Status.FINAL, "Final")], required=False
    )

    class Meta:
        model = GameEvent
        fields = ["game", "home_score", "away_score", "period", "clock", "status", "description", "key_moment"]


@admin.register(GameEvent)
class GameEventAdmin(admin.ModelAdmin):
    form = GameEventForm
    list_display = [
        "game",
        "occurred_at",
        "home_score",
        "away_score",
        "period",
        "clock",
        "status",
        "key_moment",
        "description",
    ]
    list_filter = ["status", "key_moment"]
    actions = ["mark_goal", "mark_other", "unmark"]
    list_select_related = ["game__home_team", "game__away_team"]
    autocomplete_fields: list = []
    raw_id_fields = ["game"]

    def _scorekeeper(self, request) -> bool:
        return can_keep_score(request.user)

    def has_module_permission(self, request):
        return self._scorekeeper(request) or super().has_module_permission(request)

    def has_view_permission(self, request, obj=None):
        return self._scorekeeper(request) or super().has_view_permission(request, obj)

    def has_add_permission(self, request):
        return self._scorekeeper(request)

    def has_change_permission(self, request, obj=None):
        return False  # the play-by-play is append-only

    def has_delete_permission(self, request, obj=None):
        return False

    def _mark(self, request, queryset, key_moment: str) -> None:
        for play in queryset:
            try:
                play_key_moment_set(actor=request.user, play_id=play.pk, key_moment=key_moment)
            except ApplicationError as exc:
                messages.error(request, exc.message)
                return
        messages.success(request, f"{queryset.count()} play(s) updated.")

    @admin.action(description="Mark as key moment: goal")
    def mark_goal(self, request, queryset):
        self._mark(request, queryset, GameEvent.KeyMoment.GOAL)

    @admin.action(description="Mark as key moment: other")
    def mark_other(self, request, queryset):
        self._mark(request, queryset, GameEvent.KeyMoment.OTHER)

    @admin.action(description="No longer a key moment")
    def unmark(self, request, queryset):
        self._mark(request, queryset, "")

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        try:
            event = game_event_record(
                actor=request.user,
                game_id=data["game"].pk,
                home_score=data.get("home_score"),
                away_score=data.get("away_score"),
                period=data.get("period") or None,
                clock=data.get("clock") or None,
                status=data.get("status") or None,
                description=data.get("description") or "",
                key_moment=data.get("key_moment") or "",
            )
        except ApplicationError as exc:
            messages.error(request, exc.message)
            obj.pk = None
            return
        obj.pk = event.pk

    def response_add(self, request, obj, post_url_continue=None):
        if obj.pk is None:
            from django.http import HttpResponseRedirect

            return HttpResponseRedirect(request.path)
        return super().response_add(request, obj, post_url_continue)


@admin.register(ChatMessage)
class ChatMessageAdmin(admin.ModelAdmin):
    list_display = ["game", "user_name", "text", "status", "held_reason", "created_at", "deleted_at"]
    list_filter = ["status", "deleted_at"]
    search_fields = ["text", "user_name"]
    readonly_fields = [
        "game",
        "user",
        "user_name",
        "user_avatar",
        "text",
        "status",
        "held_reason",
        "reply_to",
        "client_ref",
        "created_at",
        "deleted_at",
    ]
    exclude = ["deleted_by"]
    actions = ["delete_for_everyone", "approve_held", "reject_held"]

    def has_module_permission(self, request):
        return can_moderate(request.user)

    def has_view_permission(self, request, obj=None):
        return can_moderate(request.user)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description="Delete for everyone (chat.deleted)")
    def delete_for_everyone(self, request, queryset):
        for message in queryset:
            chat_services.chat_message_delete(actor=request.user, message_id=message.pk)
        self.message_user(request, f"{queryset.count()} message(s) deleted.")

    def _review(self, request, queryset, approve: bool):
        done = 0
        for message in queryset:
            try:
                moderation.chat_message_review(actor=request.user, message_id=message.pk, approve=approve)
                done += 1
            except ApplicationError as exc:  # another moderator was first, or it was never held
                self.message_user(request, f"message {message.pk}: {exc.message}", level=messages.WARNING)
        self.message_user(request, f"{done} message(s) {'approved' if approve else 'rejected'}.")

    @admin.action(description="Approve held messages (everyone gets them)")
    def approve_held(self, request, queryset):
        self._review(request, queryset, approve=True)

    @admin.action(description="Reject held messages")
    def reject_held(self, request, queryset):
        self._review(request, queryset, approve=False)


@admin.register(ChatMute)
class ChatMuteAdmin(ModeratorsOnly, admin.ModelAdmin):
    list_display = ["game", "user", "until", "created_by"]
    raw_id_fields = ["game", "user"]
    fields = ["game", "user", "until"]

    # Through the services, so the chat's followers hear of every change (`chat.muted`).
    def save_model(self, request, obj, form, change):
        chat_services.chat_mute_save(actor=request.user, mute=obj)

    def delete_model(self, request, obj):
        chat_services.chat_mutes_lift(actor=request.user, mutes=[obj])

    def delete_queryset(self, request, queryset):
        chat_services.chat_mutes_lift(actor=request.user, mutes=queryset)


@admin.register(GameChat)
class GameChatAdmin(ModeratorsOnly, admin.ModelAdmin):
    list_display = [
        "game",
        "opened_early",
        "slow_mode_seconds",
        "mode",
        "min_account_age_minutes",
        "first_message_review",
    ]
    list_filter = ["mode", "first_message_review"]
    raw_id_fields = ["game", "pinned_message"]
    fields = ["game", "opened_early", "slow_mode_seconds", "mode", "min_account_age_minutes", "first_message_review"]

    def has_delete_permission(self, request, obj=None):
        return False  # settings change through the service (audited, broadcast), never vanish

    def save_model(self, request, obj, form, change):
        # Only what changed: a moderator who is not staff may save slow mode without touching early opening.
        chat_services.chat_settings_update(
            actor=request.user,
            game_id=obj.game_id,
            **{name: getattr(obj, name) for name in form.changed_data if name != "game"},
        )


@admin.register(LiveSession)
class LiveSessionAdmin(admin.ModelAdmin):
    list_display = ["id", "game", "user", "device", "started_at", "last_heartbeat_at", "ended_at"]
    list_filter = ["ended_at"]
    raw_id_fields = ["game", "user"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Broadcast)
class BroadcastAdmin(admin.ModelAdmin):
    """A game's live stream: manifest, first frame, DVR window (offsets into the recording count from it)."""

    list_display = ["game", "started_at", "dvr_window_seconds", "is_premium", "manifest_url"]
    list_select_related = ["game__home_team", "game__away_team"]
    raw_id_fields = ["game"]
