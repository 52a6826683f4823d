from django.contrib import admin

from streaming.playback.models import Blackout


@admin.register(Blackout)
class BlackoutAdmin(admin.ModelAdmin):
    list_display = ["game", "countries", "subdivisions", "postal_prefixes", "replay_after_minutes", "note"]
    search_fields = ["note", "game__home_team__name", "game__away_team__name"]
    raw_id_fields = ["game"]
