"""Playback endpoints: authorize a playback, keep its session alive, end it; the manifest URL CSN serves
itself in the embedded default. Thin: streaming.playback.services decides."""

import functools

from django.conf import settings
from django.core import signing
from django.core.files.storage import default_storage
from django.http import FileResponse, HttpResponseRedirect
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from csn.api.serializers import InputSerializer
from csn.errors import ApplicationError
from streaming.live.api.views import LiveSessionOutput
from streaming.live.representation import session_data
from streaming.live.services.presence import session_keep_alive
from streaming.playback import services
from streaming.playback.region import viewer_region
from streaming.playback.signing import is_absolute, manifest_token_session


class PlaybackInput(InputSerializer):
    content_id = serializers.IntegerField(min_value=1, max_value=2**63 - 1, required=False, help_text="An item")
    game_id = serializers.IntegerField(
        min_value=1, max_value=2**63 - 1, required=False, help_text="A game: its live stream"
    )
    device = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")
    replace = serializers.UUIDField(
        required=False,
        allow_null=True,
        help_text="At the stream limit: one of your open sessions (from the refusal) to end in this one's favour.",
    )

    def validate(self, attrs):
        if ("content_id" in attrs) == ("game_id" in attrs):
            raise serializers.ValidationError("Give exactly one of content_id and game_id.", code="one_of")
        return attrs


class PlaybackOutput(serializers.Serializer):
    session_id = serializers.UUIDField()
    url = serializers.URLField(help_text="The signed manifest address; works until expires_at, for this session")
    expires_at = serializers.DateTimeField()
    heartbeat_seconds = serializers.IntegerField(help_text="Send a heartbeat at least this often")
    session = LiveSessionOutput()


class PlaybackView(APIView):
    """Authorize one playback. Refusals (HTTP 403/409/410, `error.code`): `not_found`, `not_available_yet`
    (`available_from` or `starts_at`), `expired` (`available_until` or `ended_at`), `not_entitled`
    (`products`), `region_unavailable`, `blackout` (`region`, `replay_opens_at`), `stream_limit`
    (`limit`, `sessions`: end one with DELETE /playback/sessions/{id}/ or name it in `replace`)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=PlaybackInput, responses={201: PlaybackOutput}, summary="Start a playback")
    def post(self, request):
        data = PlaybackInput(data=request.data)
        data.is_valid(raise_exception=True)
        body = data.validated_data
        playback = services.playback_start(
            user=request.user,
            region=functools.partial(viewer_region, meta=request.META, user=request.user),
            content_id=body.get("content_id"),
            game_id=body.get("game_id"),
            device=body["device"],
            replace=body.get("replace"),
        )
        return Response(
            {
                "session_id": str(playback.session.pk),
                "url": request.build_absolute_uri(playback.url),
                "expires_at": playback.expires_at,
                "heartbeat_seconds": settings.CSN_PLAYBACK_HEARTBEAT_SECONDS,
                "session": session_data(playback.session),
            },
            status=status.HTTP_201_CREATED,
        )


class PlaybackHeartbeatView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={200: LiveSessionOutput}, summary="Playback heartbeat")
    def post(self, request, session_id):
        """Keeps the session alive. `session_ended` (409) when it was ended from elsewhere,
        `session_expired` (410) when it went silent too long: start playback again."""
        session = session_keep_alive(user=request.user, session_id=session_id)
        return Response(session_data(session))


class PlaybackManifestView(APIView):
    """The address a player fetches in the embedded default (no CDN): the signed token names the
    session; while the session is open, the item's file is served or the player redirected to its
    source. `expired_url` (410) past the URL's lifetime, `bad_signature` (403) when forged or altered,
    `session_ended` (410) once the session is over."""

    permission_classes = [AllowAny]
    authentication_classes = []

    @extend_schema(
        responses={
            (200, "application/vnd.apple.mpegurl"): OpenApiTypes.BINARY,
            302: OpenApiResponse(description="To the source"),
        },
        summary="A playback manifest (CSN-signed URL)",
    )
    def get(self, request, token: str):
        try:
            session_id = manifest_token_session(token)
        except signing.SignatureExpired:
            raise ApplicationError("This playback URL has expired.", code="expired_url", status=410) from None
        if session_id is None:
            raise ApplicationError("This playback URL is not valid.", code="bad_signature", status=403)
        _session, source = services.manifest_session(session_id=session_id)
        if is_absolute(source):
            return HttpResponseRedirect(source)
        if not default_storage.exists(source):
            raise ApplicationError("The media file is missing.", code="not_found", status=404)
        return FileResponse(default_storage.open(source), content_type="application/vnd.apple.mpegurl")
