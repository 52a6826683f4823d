from django.urls import path, re_path

from streaming.playback.api import views

urlpatterns = [
    path("playback/", views.PlaybackView.as_view(), name="playback"),
    path("playback/sessions/", views.PlaybackSessionListView.as_view(), name="playback-sessions"),
    path("playback/sessions/<uuid:session_id>/", views.PlaybackSessionView.as_view(), name="playback-session"),
    path(
        "playback/sessions/<uuid:session_id>/heartbeat/",
        views.PlaybackHeartbeatView.as_view(),
        name="playback-session-heartbeat",
    ),
    # The token is a session id, a timestamp and a signature (django.core.signing); anything else is a 404.
    re_path(
        r"^playback/manifest/(?P<token>[A-Za-z0-9_:-]{1,200})/$",
        views.PlaybackManifestView.as_view(),
        name="playback-manifest",
    ),
    # A file beside the manifest (a segment, a variant playlist): the token is the path prefix.
    re_path(
        r"^playback/manifest/(?P<token>[A-Za-z0-9_:-]{1,200})/(?P<name>[A-Za-z0-9_.~/-]{1,300})$",
        views.PlaybackStreamFileView.as_view(),
        name="playback-stream-file",
    ),
]
