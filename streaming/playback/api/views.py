"""Playback endpoints: authorize a playback, keep its session alive, end it; the manifest URL CSN serves
itself in the embedded default. Thin: streaming.playback.services decides."""

import functools
import posixpath

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

from accounts.location import viewer_region
from csn.api.schema import error_codes
from csn.api.serializers import InputSerializer
from csn.errors import ApplicationError
from streaming.live.api.views import LiveSessionListView, LiveSessionOutput, LiveSessionView
from streaming.live.representation import session_data
from streaming.live.services.presence import session_keep_alive
from streaming.playback import services
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

    @extend_schema(
        operation_id="startPlayback",
        summary="Start a playback",
        description="Checks the item (`content_id`) or the game's live stream (`game_id`): its window, your "
        "products, your region, your stream limit; then opens a viewing session and answers a signed manifest "
        "address valid a few minutes. Each refusal carries what a player can act on: `not_entitled` the "
        "`products` that would unlock it, `not_available_yet` `available_from`/`starts_at`, `expired` "
        "`available_until`/`ended_at`, `blackout` the `region` and `replay_opens_at`, `stream_limit` the "
        "`limit` of the `product` this stream counts against (per product: the one granting it that allows the "
        "most) and your open `sessions` counted there (end one, or name it in `replace`). The signed address "
        "covers the manifest's folder: its segments and variant playlists. docs/playback.md.",
        tags=["playback"],
        request=PlaybackInput,
        responses={201: PlaybackOutput},
        extensions=error_codes(
            {
                403: ["not_available_yet", "not_entitled", "region_unavailable", "blackout"],
                404: ["not_found"],
                409: ["stream_limit", "not_available_yet"],
                410: ["expired"],
            }
        ),
    )
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


class PlaybackSessionListView(LiveSessionListView):
    @extend_schema(
        operation_id="listPlaybackSessions",
        summary="List your open viewing sessions",
        description="Playback and live presence sessions alike: what counts against your stream limit.",
        tags=["playback"],
        responses={200: LiveSessionOutput(many=True)},
    )
    def get(self, request):
        return super().get(request)


class PlaybackSessionView(LiveSessionView):
    @extend_schema(
        operation_id="endPlaybackSession",
        summary="End one of your viewing sessions",
        description="Frees a stream at once: the device's sockets hear `session.ended`, its next heartbeat is "
        "refused (`session_ended`) and its CSN-signed address stops working.",
        tags=["playback"],
        request=None,
        responses={204: None},
    )
    def delete(self, request, session_id):
        return super().delete(request, session_id)


class PlaybackHeartbeatView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="sendPlaybackHeartbeat",
        summary="Keep a playback session alive",
        description="Send every `heartbeat_seconds`. `session_ended` (409) when it was ended from another "
        "device, `session_expired` (410) when it went silent too long: start playback again.",
        tags=["playback"],
        request=None,
        responses={200: LiveSessionOutput},
        extensions=error_codes({409: ["session_ended"], 410: ["session_expired"]}),
    )
    def post(self, request, session_id):
        session = session_keep_alive(user=request.user, session_id=session_id)
        return Response(session_data(session))


class PlaybackManifestView(APIView):
    """The address a player fetches in the embedded default (no CDN): the signed token names the
    session; while the session is open, the item's file is served or the player redirected to its
    source. The token is a path prefix: `<token>/<name>` is a file beside the manifest (a segment, a
    variant playlist), so the player's relative addresses carry it. `expired_url` (410) when the token is
    older than the URL's lifetime (the manifest only: the files beside it are the session's while it is
    open), `bad_signature` (403) when forged or altered, `session_ended` (410) once the session is over,
    `not_found` (404) for a name outside the manifest's folder or a missing file."""

    permission_classes = [AllowAny]
    authentication_classes = []

    @extend_schema(
        operation_id="getPlaybackManifest",
        summary="Fetch a playback manifest (an address CSN signed)",
        description="What a player fetches in the embedded default, without credentials: while the session "
        "the token names is open, the file or a redirect to its source. The token is a path prefix: "
        "`getPlaybackStreamFile` serves the files beside the manifest.",
        tags=["playback"],
        responses={
            (200, "application/vnd.apple.mpegurl"): OpenApiTypes.BINARY,
            302: OpenApiResponse(description="To the source"),
        },
        extensions=error_codes({403: ["bad_signature"], 404: ["not_found"], 410: ["expired_url", "session_ended"]}),
    )
    def get(self, request, token: str, name: str | None = None):
        try:
            session_id = manifest_token_session(token, any_age=name is not None)
        except signing.SignatureExpired:
            raise ApplicationError("This playback URL has expired.", code="expired_url", status=410) from None
        if session_id is None:
            raise ApplicationError("This playback URL is not valid.", code="bad_signature", status=403)
        source = services.stream_source(session_id=session_id, name=name)
        if is_absolute(source):
            return HttpResponseRedirect(source)
        if not default_storage.exists(source):
            raise ApplicationError("The media file is missing.", code="not_found", status=404)
        return FileResponse(default_storage.open(source), content_type=media_type(source))


class PlaybackStreamFileView(PlaybackManifestView):
    @extend_schema(
        operation_id="getPlaybackStreamFile",
        summary="Fetch a file beside a playback manifest (a segment, a variant playlist)",
        description="`{token}/{name}`: the file `name` in the folder of the manifest the token's session plays, "
        "which a player reaches by the manifest's relative addresses. Served while the session is open, past "
        "the manifest URL's lifetime too; `not_found` outside the manifest's folder or beside a manifest CSN "
        "does not store (it redirected to the source).",
        tags=["playback"],
        responses={
            (200, "application/octet-stream"): OpenApiTypes.BINARY,
        },
        extensions=error_codes({403: ["bad_signature"], 404: ["not_found"], 410: ["session_ended"]}),
    )
    def get(self, request, token: str, name: str | None = None):
        return super().get(request, token, name)


# HLS playlists and segments by extension (mimetypes does not know most of them).
MEDIA_TYPES = {
    ".m3u8": "application/vnd.apple.mpegurl",
    ".ts": "video/mp2t",
    ".m4s": "video/iso.segment",
    ".mp4": "video/mp4",
    ".m4a": "audio/mp4",
    ".aac": "audio/aac",
    ".vtt": "text/vtt",
    ".key": "application/octet-stream",
}


def media_type(key: str) -> str:
    return MEDIA_TYPES.get(posixpath.splitext(key)[1].lower(), "application/octet-stream")
