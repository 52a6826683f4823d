from django.urls import path

from streaming.watch.api import views

urlpatterns = [
    path("content/<id:pk>/moments/", views.ContentMomentsView.as_view(), name="content-moments"),
    path("games/<id:game_id>/playback/", views.GamePlaybackView.as_view(), name="game-playback"),
]
