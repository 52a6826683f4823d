from django.urls import path

from streaming.live.api import engagement, moderation, views

urlpatterns = [
    path("games/<id:game_id>/events/", views.GameEventCreateView.as_view(), name="game-events"),
    path("games/<id:game_id>/heartbeat/", views.HeartbeatView.as_view(), name="game-heartbeat"),
    path("games/<id:game_id>/chat/", views.ChatSettingsView.as_view(), name="game-chat-settings"),
    path("games/<id:game_id>/chat/replay/", views.ChatReplayView.as_view(), name="game-chat-replay"),
    path("games/<id:game_id>/chat/mutes/", views.ChatMuteView.as_view(), name="game-chat-mutes"),
    path("plays/<id:play_id>/", views.PlayKeyMomentView.as_view(), name="play-key-moment"),
    path("live/sessions/", views.LiveSessionListView.as_view(), name="live-sessions"),
    path("live/sessions/<uuid:session_id>/", views.LiveSessionView.as_view(), name="live-session"),
    path("chat/messages/<id:message_id>/", views.ChatMessageDeleteView.as_view(), name="chat-message"),
    path("chat/messages/<id:message_id>/reports/", moderation.ChatMessageReportView.as_view(), name="chat-reports"),
    path("chat/messages/<id:message_id>/review/", moderation.ChatMessageReviewView.as_view(), name="chat-review"),
    path("chat/reports/<id:report_id>/resolve/", moderation.ChatReportResolveView.as_view(), name="chat-resolve"),
    path("games/<id:game_id>/chat/queue/", moderation.ModerationQueueView.as_view(), name="game-chat-queue"),
    path("games/<id:game_id>/chat/bans/", moderation.ChatBanView.as_view(), name="game-chat-bans"),
    path("games/<id:game_id>/chat/pin/", moderation.ChatPinView.as_view(), name="game-chat-pin"),
    path("games/<id:game_id>/polls/", engagement.GamePollsView.as_view(), name="game-polls"),
    path("games/<id:game_id>/predictions/", engagement.GamePredictionsView.as_view(), name="game-predictions"),
    path("polls/<id:poll_id>/", engagement.PollView.as_view(), name="poll"),
    path("predictions/record/", engagement.PredictionRecordView.as_view(), name="prediction-record"),
]
