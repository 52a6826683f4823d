from django.urls import path

from streaming.api import live_views

urlpatterns = [
    path("games/<int:game_id>/events/", live_views.GameEventCreateView.as_view(), name="game-events"),
    path("games/<int:game_id>/heartbeat/", live_views.HeartbeatView.as_view(), name="game-heartbeat"),
    path("games/<int:game_id>/chat/", live_views.ChatSettingsView.as_view(), name="game-chat-settings"),
    path("games/<int:game_id>/chat/mutes/", live_views.ChatMuteView.as_view(), name="game-chat-mutes"),
    path("chat/messages/<int:message_id>/", live_views.ChatMessageDeleteView.as_view(), name="chat-message"),
]
