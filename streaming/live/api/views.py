"""Live REST endpoints: scorekeepers' game events, player heartbeats, chat moderation. Thin."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from content.models import Game
from csn.api.serializers import InputSerializer
from streaming.live import selectors
from streaming.live.models import GameChat
from streaming.live.representation import game_state, play_data, session_data
from streaming.live.services import chat as chat_services
from streaming.live.services import presence
from streaming.live.services.scores import game_event_record


class GameEventInput(InputSerializer):
    home_score = serializers.IntegerField(min_value=0, max_value=100000, required=False)
    away_score = serializers.IntegerField(min_value=0, max_value=100000, required=False)
    period = serializers.CharField(max_length=16, required=False, allow_blank=True)
    clock = serializers.CharField(max_length=16, required=False, allow_blank=True)
    status = serializers.ChoiceField(choices=[Game.Status.LIVE, Game.Status.FINAL], required=False)
    description = serializers.CharField(max_length=280, required=False, allow_blank=True, default="")


class GameEventOutput(serializers.Serializer):
    game = serializers.DictField()
    play = serializers.DictField()


class GameEventCreateView(APIView):
    @extend_schema(request=GameEventInput, responses={201: GameEventOutput}, summary="Post a score/play event")
    def post(self, request, game_id: int):
        data = GameEventInput(data=request.data)
        data.is_valid(raise_exception=True)
        event = game_event_record(actor=request.user, game_id=game_id, **data.validated_data)
        game = selectors.access_game(game_id)
        return Response(
            {"game": game_state(game), "play": play_data(event)},
            status=status.HTTP_201_CREATED,
        )


class HeartbeatInput(InputSerializer):
    session_id = serializers.UUIDField(required=False, allow_null=True)
    device = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")
    replace = serializers.UUIDField(
        required=False,
        allow_null=True,
        help_text="At the stream limit: one of your open sessions (GET /live/sessions/) to end in this one's favour.",
    )


class HeartbeatOutput(serializers.Serializer):
    session_id = serializers.UUIDField()
    viewers = serializers.IntegerField()


class HeartbeatView(APIView):
    @extend_schema(request=HeartbeatInput, responses={200: HeartbeatOutput}, summary="Viewing heartbeat")
    def post(self, request, game_id: int):
        data = HeartbeatInput(data=request.data)
        data.is_valid(raise_exception=True)
        session = presence.presence_heartbeat(
            user=request.user,
            game_id=game_id,
            session_id=data.validated_data.get("session_id"),
            device=data.validated_data["device"],
            replace=data.validated_data.get("replace"),
        )
        return Response({"session_id": str(session.pk), "viewers": selectors.viewer_count(game_id=game_id)})


class LiveSessionOutput(serializers.Serializer):
    id = serializers.UUIDField()
    game = serializers.IntegerField()
    device = serializers.CharField()
    started_at = serializers.DateTimeField()
    last_heartbeat_at = serializers.DateTimeField()


class LiveSessionListView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: LiveSessionOutput(many=True)}, summary="Your open viewing sessions")
    def get(self, request):
        return Response([session_data(session) for session in selectors.open_sessions(user=request.user)])


class LiveSessionView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={204: None}, summary="End one of your viewing sessions")
    def delete(self, request, session_id):
        presence.presence_session_end(user=request.user, session_id=session_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ChatMessageDeleteView(APIView):
    @extend_schema(request=None, responses={204: None}, summary="Moderator: delete a chat message")
    def delete(self, request, message_id: int):
        chat_services.chat_message_delete(actor=request.user, message_id=message_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MuteInput(InputSerializer):
    user = serializers.IntegerField()
    minutes = serializers.IntegerField(min_value=1, max_value=1440)


class ChatMuteView(APIView):
    @extend_schema(request=MuteInput, responses={201: None}, summary="Moderator: mute a user in a game's chat")
    def post(self, request, game_id: int):
        data = MuteInput(data=request.data)
        data.is_valid(raise_exception=True)
        body = data.validated_data
        mute = chat_services.chat_user_mute(
            actor=request.user, game_id=game_id, user_id=body["user"], minutes=body["minutes"]
        )
        return Response({"user": mute.user_id, "until": mute.until}, status=status.HTTP_201_CREATED)


class ChatSettingsInput(InputSerializer):
    opened_early = serializers.BooleanField(required=False)
    slow_mode_seconds = serializers.IntegerField(min_value=0, max_value=3600, required=False)
    mode = serializers.ChoiceField(choices=GameChat.Mode.values, required=False, help_text="Who may post")
    min_account_age_minutes = serializers.IntegerField(min_value=0, max_value=525600, required=False)
    first_message_review = serializers.BooleanField(
        required=False, help_text="Hold the message of anyone who never had one published"
    )
    reason = serializers.CharField(max_length=280, required=False, allow_blank=True, help_text="Kept in the audit")


class ChatSettingsOutput(serializers.Serializer):
    opened_early = serializers.BooleanField()
    slow_mode_seconds = serializers.IntegerField()
    mode = serializers.ChoiceField(choices=GameChat.Mode.values)
    min_account_age_minutes = serializers.IntegerField()
    first_message_review = serializers.BooleanField()


class ChatSettingsView(APIView):
    @extend_schema(request=ChatSettingsInput, responses={200: ChatSettingsOutput}, summary="Moderator: chat settings")
    def patch(self, request, game_id: int):
        data = ChatSettingsInput(data=request.data)
        data.is_valid(raise_exception=True)
        chat_settings = chat_services.chat_settings_update(actor=request.user, game_id=game_id, **data.validated_data)
        return Response({name: getattr(chat_settings, name) for name in ChatSettingsOutput().fields})
