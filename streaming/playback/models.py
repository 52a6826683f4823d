"""Playback rules kept beside the catalogue: regional blackouts of live games."""

from django.db import models


class Blackout(models.Model):
    """A game's live stream may not be shown in these regions (a league's broadcast territories). The
    game's replays (its items) open there `replay_after_minutes` after the game ends."""

    game = models.ForeignKey("content.Game", on_delete=models.CASCADE, related_name="blackouts")
    countries = models.JSONField(default=list, blank=True, help_text='ISO 3166-1 alpha-2 codes, e.g. ["US"]')
    subdivisions = models.JSONField(
        default=list, blank=True, help_text='ISO 3166-2 codes with their country, e.g. ["US-CA", "CA-ON"]'
    )
    postal_prefixes = models.JSONField(
        default=list, blank=True, help_text='Postal code prefixes with their country, e.g. ["US:902", "US:100"]'
    )
    replay_after_minutes = models.PositiveIntegerField(default=90)
    note = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["game"], name="blackout_game_idx")]

    def __str__(self):
        regions = [*self.countries, *self.subdivisions, *self.postal_prefixes]
        return f"blackout of game {self.game_id} in {', '.join(regions) or 'nowhere'}"
