from django.urls import path

from streaming.fans.api import views

urlpatterns = [
    path("favorites/teams/", views.FavoriteTeamsView.as_view(), name="favorite-teams"),
    path("favorites/teams/<id:team_id>/", views.FavoriteTeamView.as_view(), name="favorite-team"),
    path("favorites/players/", views.FavoritePlayersView.as_view(), name="favorite-players"),
    path("favorites/players/<id:player_id>/", views.FavoritePlayerView.as_view(), name="favorite-player"),
    path("notifications/", views.NotificationsView.as_view(), name="notifications"),
    path("notifications/read-all/", views.NotificationsReadAllView.as_view(), name="notifications-read-all"),
    path("notifications/<id:notification_id>/read/", views.NotificationReadView.as_view(), name="notification-read"),
]
