from django.urls import path

from content.api import views

urlpatterns = [
    path("content/", views.ContentListView.as_view(), name="content-list"),
    path("content/<id:pk>/", views.ContentDetailView.as_view(), name="content-detail"),
    path("content/<id:pk>/transitions/", views.ContentTransitionView.as_view(), name="content-transition"),
    path("teams/", views.TeamListView.as_view(), name="team-list"),
    path("players/", views.PlayerListView.as_view(), name="player-list"),
    path("games/", views.GameListView.as_view(), name="game-list"),
    path("games/<id:pk>/", views.GameDetailView.as_view(), name="game-detail"),
    path("games/<id:pk>/spoiler/", views.GameSpoilerView.as_view(), name="game-spoiler"),
    path("spoilers/", views.SpoilerPreferenceView.as_view(), name="spoiler-preference"),
    path("media/uploads/", views.MediaUploadStartView.as_view(), name="media-upload-start"),
    path("media/<id:pk>/", views.MediaAssetView.as_view(), name="media-asset"),
    path("media/<id:pk>/upload/", views.MediaDirectUploadView.as_view(), name="media-upload-direct"),
    path("media/<id:pk>/confirm/", views.MediaUploadConfirmView.as_view(), name="media-upload-confirm"),
]
