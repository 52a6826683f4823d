from django.urls import path

from accounts.api import views

urlpatterns = [
    path("auth/register/", views.RegisterView.as_view(), name="auth-register"),
    path("auth/token/", views.TokenView.as_view(), name="auth-token"),
    path("auth/logout/", views.LogoutView.as_view(), name="auth-logout"),
    path("auth/password/", views.PasswordChangeView.as_view(), name="auth-password"),
    path("me/", views.MeView.as_view(), name="me"),
    path("favorites/teams/", views.FavoriteTeamsView.as_view(), name="favorite-teams"),
    path("favorites/teams/<int:team_id>/", views.FavoriteTeamView.as_view(), name="favorite-team"),
    path("favorites/players/", views.FavoritePlayersView.as_view(), name="favorite-players"),
    path("favorites/players/<int:player_id>/", views.FavoritePlayerView.as_view(), name="favorite-player"),
    path("notifications/", views.NotificationsView.as_view(), name="notifications"),
    path("notifications/read-all/", views.NotificationsReadAllView.as_view(), name="notifications-read-all"),
    path("notifications/<int:notification_id>/read/", views.NotificationReadView.as_view(), name="notification-read"),
]
