"""Pages served by Django outside the API (the watch page lives here)."""

from django.urls import path

from streaming import live_views

urlpatterns: list = [
    path("watch/<int:game_id>/", live_views.game_watch, name="watch"),  # live (issue 6)
]
