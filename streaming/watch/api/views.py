"""Catch-up endpoints: a game's playback choices and what the viewer missed, an item's key moments. Thin."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from streaming.watch import selectors

POSITION = OpenApiParameter(
    "position",
    float,
    description="Seconds into the stream (the recording). Spoiler-safe viewers get nothing after it; "
    "default: where you left off (your progress on the game's recording), else the start.",
)


class MomentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField(help_text="goal, touchdown, red_card, penalty, home_run, other")
    description = serializers.CharField()
    period = serializers.CharField()
    clock = serializers.CharField()
    offset_seconds = serializers.FloatField(help_text="Seconds into the stream and its recording")
    occurred_at = serializers.DateTimeField()


class MomentsSerializer(serializers.Serializer):
    content = serializers.IntegerField()
    game = serializers.IntegerField(allow_null=True)
    position_seconds = serializers.FloatField(
        allow_null=True, help_text="Moments after this are hidden (spoiler-safe mode); null: none hidden"
    )
    moments = MomentSerializer(many=True)
    hidden_after = serializers.IntegerField(help_text="How many key moments come after the position")


class ContentMomentsView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="listKeyMoments",
        summary="List the key moments of an item's game",
        description="Key plays with their offsets into the recording, for player timelines. Spoiler-safe: a "
        "viewer holding the game gets those up to `position` (default: their progress on the item).",
        tags=["content"],
        parameters=[POSITION],
        responses={200: MomentsSerializer},
    )
    def get(self, request, pk: int):
        position = selectors.position_parse(request.query_params.get("position"))
        return Response(selectors.content_moments(user=request.user, content_id=pk, position=position))


class ChoiceSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["live_edge", "kickoff", "where_you_left_off"])
    offset_seconds = serializers.FloatField()
    horizon = serializers.DateTimeField(help_text="The frame time to start at (send it as your `align` horizon)")


class MissedSerializer(serializers.Serializer):
    up_to_seconds = serializers.FloatField()
    home_score = serializers.IntegerField(allow_null=True)
    away_score = serializers.IntegerField(allow_null=True)
    score_hidden = serializers.BooleanField()
    moments = MomentSerializer(many=True)
    hidden_after = serializers.IntegerField()


class PlaybackSerializer(serializers.Serializer):
    game = serializers.IntegerField()
    status = serializers.CharField()
    manifest_url = serializers.CharField(allow_null=True, help_text="null: no stream, or premium (`locked`)")
    locked = serializers.BooleanField()
    stream_started_at = serializers.DateTimeField(help_text="The first frame's wall-clock time")
    live_edge = serializers.DateTimeField()
    live_edge_offset_seconds = serializers.FloatField()
    dvr_window_seconds = serializers.IntegerField(allow_null=True)
    dvr_start = serializers.DateTimeField(allow_null=True, help_text="The earliest frame a viewer may rewind to")
    recording = serializers.IntegerField(allow_null=True, help_text="The game's full_game item")
    choices = ChoiceSerializer(many=True)
    missed = MissedSerializer(help_text="What happened up to `position` (spoiler-safe: nothing after it)")


class GamePlaybackView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="getGamePlayback",
        summary="Get a game's playback and catch-up choices",
        description="The live edge, the stream's start and DVR window, where to start (live edge, kickoff, "
        "where you left off) and what you missed up to `position`, spoiler-safe.",
        tags=["games"],
        parameters=[POSITION],
        responses={200: PlaybackSerializer},
    )
    def get(self, request, game_id: int):
        position = selectors.position_parse(request.query_params.get("position"))
        return Response(selectors.game_playback(user=request.user, game_id=game_id, position=position))
