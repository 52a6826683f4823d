"""Teams, their players, and games."""

from django.contrib import admin
from django.db.models import Count

from content.admin.shared import badge, media_preview
from content.models import Game, Player, Team

GAME_STATUS_COLOURS = {"live": "#b91c1c", "final": "#374151", "postponed": "#6b7280"}


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


@admin.register(Game)
class GameAdmin(admin.ModelAdmin):
    list_display = ["__str__", "sport", "status_badge", "starts_at", "score", "venue"]
    list_filter = ["status", "sport"]
    search_fields = ["home_team__name", "away_team__name", "venue"]
    date_hierarchy = "starts_at"
    autocomplete_fields = ["home_team", "away_team"]
    list_select_related = ["home_team", "away_team"]
    ordering = ["-starts_at"]

    @admin.display(description="Status", ordering="status")
    def status_badge(self, game):
        return badge(game.get_status_display(), GAME_STATUS_COLOURS.get(game.status, "#1d4ed8"))

    @admin.display(description="Score")
    def score(self, game):
        return f"{game.away_score} - {game.home_score}"
