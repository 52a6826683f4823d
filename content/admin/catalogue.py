"""Teams, their players, and games."""

from django.contrib import admin
from django.db.models import Count
from django.http import StreamingHttpResponse
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html

from content.admin.shared import badge, media_preview
from content.models import Game, ImportJob, Player, Team
from content.services.cache import GAMES, catalogue_changed
from content.services.imports import csv_export

GAME_STATUS_COLOURS = {"live": "#b91c1c", "final": "#374151", "postponed": "#6b7280"}
# What happens during a game changes only through the scorekeeper's service (streaming's "Game events"
# admin and API): it writes the play-by-play row and the live event. Here they are read-only, but an
# editor may still postpone a game that has not started, or schedule it again.
GAME_PLAY_FIELDS = ["home_score", "away_score", "period", "clock"]
GAME_UNSTARTED = [Game.Status.SCHEDULED, Game.Status.POSTPONED]
# The scorekeeper's form, by admin URL name: content cannot import the app that owns it.
GAME_EVENT_ADD_URL = "admin:streaming_gameevent_add"


def _export(kind: str, name: str):
    """An admin action: the selected rows as a CSV file in the import's columns, streamed."""

    @admin.action(description=f"Export selected {name} as CSV (import columns)")
    def export_csv(modeladmin, request, queryset):
        response = StreamingHttpResponse(
            csv_export(kind=kind, queryset=queryset), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
        return response

    return export_csv


class PlayerInline(admin.TabularInline):
    model = Player
    extra = 0
    fields = ["number", "name", "position"]
    ordering = ["number", "name"]


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["logo_preview", "name", "sport", "player_count"]
    list_display_links = ["logo_preview", "name"]
    list_filter = ["sport"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ("name",)}
    inlines = [PlayerInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(player_count=Count("players")).order_by("name")

    @admin.display(description="Players", ordering="player_count")
    def player_count(self, team):
        return team.player_count

    @admin.display(description="")
    def logo_preview(self, team):
        return media_preview(team.logo.url if team.logo else None, "image/", height=28)


@admin.register(Player)
class PlayerAdmin(admin.ModelAdmin):
    list_display = ["name", "number", "position", "team"]
    list_filter = ["team__sport", "position"]
    search_fields = ["name", "team__name"]
    autocomplete_fields = ["team"]
    list_select_related = ["team"]
    actions = [_export(ImportJob.Kind.PLAYERS, "players")]


@admin.register(Game)
class GameAdmin(admin.ModelAdmin):
    list_display = ["__str__", "sport", "status_badge", "starts_at", "score", "venue"]
    list_filter = ["status", "sport"]
    search_fields = ["home_team__name", "away_team__name", "venue"]
    date_hierarchy = "starts_at"
    autocomplete_fields = ["home_team", "away_team"]
    list_select_related = ["home_team", "away_team"]
    ordering = ["-starts_at"]
    actions = [_export(ImportJob.Kind.GAMES, "games")]

    def get_readonly_fields(self, request, obj=None):
        locked = GAME_PLAY_FIELDS if obj is None or obj.status in GAME_UNSTARTED else ["status", *GAME_PLAY_FIELDS]
        return [*locked, "record_event"] if obj is not None else locked

    def formfield_for_choice_field(self, db_field, request, **kwargs):
        if db_field.name == "status":
            kwargs["choices"] = [(status.value, status.label) for status in GAME_UNSTARTED]
        return super().formfield_for_choice_field(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        if not change:
            return super().save_model(request, obj, form, change)
        # Only what the form edits: a scorekeeper's update saved meanwhile is not written back.
        fields = [name for name in form.changed_data if name not in GAME_PLAY_FIELDS]
        if "status" in fields:
            # Unless the game went live since the page was read: its status is the scorekeeper's now.
            Game.objects.filter(pk=obj.pk, status__in=GAME_UNSTARTED).update(status=obj.status)
            catalogue_changed(GAMES)  # an UPDATE: no post_save
            fields.remove("status")
        if fields:
            obj.save(update_fields=[*fields, "updated_at"])

    @admin.display(description="Score, period, clock and status")
    def record_event(self, game):
        try:
            url = reverse(GAME_EVENT_ADD_URL)
        except NoReverseMatch:  # pragma: no cover - the live admin is not installed
            return "Change them through the scorekeeper's game events."
        return format_html(
            '<a href="{}?game={}">Record a game event</a> (the scorekeeper\'s service: play-by-play and live '
            "update); they are not edited here.",
            url,
            game.pk,
        )

    @admin.display(description="Status", ordering="status")
    def status_badge(self, game):
        return badge(game.get_status_display(), GAME_STATUS_COLOURS.get(game.status, "#1d4ed8"))

    @admin.display(description="Score")
    def score(self, game):
        return f"{game.away_score} - {game.home_score}"
