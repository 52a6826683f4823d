from django.urls import path

from streaming.live.api import views

urlpatterns = [
    path("games/<id:game_id>/events/", views.GameEventCreateView.as_view(), name="game-events"),
    path("games/<id:game_id>/heartbeat/", views.HeartbeatView.as_view(), name="game-heartbeat"),
    path("games/<id:game_id>/chat/", views.ChatSettingsView.as_view(), name="game-chat-settings"),
    path("games/<id:game_id>/chat/mutes/", views.ChatMuteView.as_view(), name="game-chat-mutes"),
    path("live/sessions/", views.LiveSessionListView.as_view(), name="live-sessions"),
    path("live/sessions/<uuid:session_id>/", views.LiveSessionView.as_view(), name="live-session"),
    path("chat/messages/<id:message_id>/", views.ChatMessageDeleteView.as_view(), name="chat-message"),
]
