"""Pages served by Django outside the API: the home page and the watch page."""

from django.urls import path

from streaming.live import views

urlpatterns = [
    path("", views.home, name="home"),
    path("watch/<id:game_id>/", views.game_watch, name="watch"),
]
