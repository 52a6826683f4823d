"""Live REST endpoints: scorekeepers' game events, player heartbeats, chat moderation. Thin."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from content.models import Game
from csn.api.idempotency import idempotent
from csn.api.schema import error_codes
from csn.api.serializers import InputSerializer
from csn.errors import ApplicationError
from streaming.live import selectors
from streaming.live.models import GameChat, GameEvent
from streaming.live.representation import game_state, play_data, session_data
from streaming.live.services import chat as chat_services
from streaming.live.services import presence
from streaming.live.services.scores import game_event_record, play_key_moment_set


class GameEventInput(InputSerializer):
    home_score = serializers.IntegerField(min_value=0, max_value=100000, required=False)
    away_score = serializers.IntegerField(min_value=0, max_value=100000, required=False)
    period = serializers.CharField(max_length=16, required=False, allow_blank=True)
    clock = serializers.CharField(max_length=16, required=False, allow_blank=True)
    status = serializers.ChoiceField(choices=[Game.Status.LIVE, Game.Status.FINAL], required=False)
    description = serializers.CharField(max_length=280, required=False, allow_blank=True, default="")
    occurred_at = serializers.DateTimeField(
        required=False, help_text="Wall-clock time of the play (default: when received; a future time counts as now)"
    )
    key_moment = serializers.ChoiceField(
        choices=GameEvent.KeyMoment.choices,
        required=False,
        default="",
        allow_blank=True,
        help_text="Marks the play for the key-moment timeline",
    )


class LiveTeamOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class GameStateOutput(serializers.Serializer):
    """A game's live state (streaming.live.representation.game_state), as the `score` event carries it."""

    id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=Game.Status.choices)
    home_team = LiveTeamOutput()
    away_team = LiveTeamOutput()
    home_score = serializers.IntegerField()
    away_score = serializers.IntegerField()
    period = serializers.CharField()
    clock = serializers.CharField()
    starts_at = serializers.DateTimeField()


class PlayOutput(serializers.Serializer):
    """One play (streaming.live.representation.play_data), as the `play` event carries it."""

    id = serializers.IntegerField()
    description = serializers.CharField()
    status = serializers.ChoiceField(choices=Game.Status.choices)
    home_score = serializers.IntegerField()
    away_score = serializers.IntegerField()
    period = serializers.CharField()
    clock = serializers.CharField()
    changed = serializers.ListField(
        child=serializers.ChoiceField(choices=["home_score", "away_score", "period", "clock", "status"]),
        help_text="The game fields this event changed.",
    )
    key_moment = serializers.ChoiceField(
        choices=GameEvent.KeyMoment.choices, allow_blank=True, help_text="The kind of key moment, empty if it is none"
    )
    occurred_at = serializers.DateTimeField(help_text="The play's wall-clock time (offset into the stream from it)")
    created_at = serializers.DateTimeField()


class GameEventOutput(serializers.Serializer):
    game = GameStateOutput()
    play = PlayOutput()


class GameEventCreateView(APIView):
    @extend_schema(
        operation_id="postGameEvent",
        summary="Post a score or play event",
        description="Scorekeepers (`streaming.keep_score`): change the score, period, clock or status of a "
        "game and add a play; followers of the game's topic get it live. Idempotency-Key supported.",
        tags=["live"],
        request=GameEventInput,
        responses={201: GameEventOutput},
        extensions=error_codes(
            {400: ["empty_event", "occurred_at_out_of_range"], 409: ["invalid_transition", "game_not_live"]}
        ),
    )
    @idempotent
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
    @extend_schema(
        operation_id="sendHeartbeat",
        summary="Send a viewing heartbeat",
        description="For players without a websocket: starts or keeps a viewing session of the game, under "
        "the plan's stream limit (`stream_limit`, with `limit`; pass `replace` to end one of your sessions).",
        tags=["live"],
        request=HeartbeatInput,
        responses={200: HeartbeatOutput},
        extensions=error_codes({403: ["auth_required"], 409: ["stream_limit", "session_ended"]}),
    )
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
    game = serializers.IntegerField(allow_null=True, help_text="The live game watched (null: an item)")
    content = serializers.IntegerField(allow_null=True, help_text="The item watched (null: a live game)")
    playback = serializers.BooleanField(help_text="Started by POST /playback/ (a player), not by presence")
    device = serializers.CharField()
    started_at = serializers.DateTimeField()
    last_heartbeat_at = serializers.DateTimeField()


class LiveSessionListView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="listLiveSessions",
        summary="List your open viewing sessions",
        description="The signed-in user's sessions that count against the stream limit.",
        tags=["live"],
        responses={200: LiveSessionOutput(many=True)},
    )
    def get(self, request):
        return Response([session_data(session) for session in selectors.open_sessions(user=request.user)])


class LiveSessionView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="endLiveSession",
        summary="End one of your viewing sessions",
        description="Frees a stream: the device watching in it is told `session.ended` and refused once.",
        tags=["live"],
        request=None,
        responses={204: None},
    )
    def delete(self, request, session_id):
        presence.presence_session_end(user=request.user, session_id=session_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ChatMessageDeleteView(APIView):
    @extend_schema(
        operation_id="deleteChatMessage",
        summary="Delete a chat message",
        description="Moderators (`streaming.moderate_chat`): the message is hidden from the game's chat.",
        tags=["live"],
        request=None,
        responses={204: None},
    )
    def delete(self, request, message_id: int):
        chat_services.chat_message_delete(actor=request.user, message_id=message_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MuteInput(InputSerializer):
    user = serializers.IntegerField()
    minutes = serializers.IntegerField(min_value=1, max_value=1440)


class MuteOutput(serializers.Serializer):
    user = serializers.IntegerField(help_text="The muted user's id.")
    until = serializers.DateTimeField(help_text="When the mute ends.")


class ChatMuteView(APIView):
    @extend_schema(
        operation_id="muteChatUser",
        summary="Mute a user in a game's chat",
        description="Moderators (`streaming.moderate_chat`): the user cannot chat in this game for `minutes`.",
        tags=["live"],
        request=MuteInput,
        responses={201: MuteOutput},
        extensions=error_codes({400: ["invalid_minutes"]}),
    )
    @idempotent
    def post(self, request, game_id: int):
        data = MuteInput(data=request.data)
        data.is_valid(raise_exception=True)
        body = data.validated_data
        mute = chat_services.chat_user_mute(
            actor=request.user, game_id=game_id, user_id=body["user"], minutes=body["minutes"]
        )
        return Response(MuteOutput({"user": mute.user_id, "until": mute.until}).data, status=status.HTTP_201_CREATED)


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
    @extend_schema(
        operation_id="updateChatSettings",
        summary="Change a game's chat settings",
        description="Moderators: slow mode (seconds between a user's messages, 0 = off), who may post (`mode`: "
        "everyone, premium, fans of either team, emotes only), the minimum account age, first-message review; "
        "staff: open the chat before the game goes live. Audited with the values before and after.",
        tags=["live"],
        request=ChatSettingsInput,
        responses={200: ChatSettingsOutput},
        extensions=error_codes({400: ["invalid_slow_mode", "invalid_settings"]}),
    )
    def patch(self, request, game_id: int):
        data = ChatSettingsInput(data=request.data)
        data.is_valid(raise_exception=True)
        chat_settings = chat_services.chat_settings_update(actor=request.user, game_id=game_id, **data.validated_data)
        return Response({name: getattr(chat_settings, name) for name in ChatSettingsOutput().fields})


class ChatReplayQuery(serializers.Serializer):
    # "from" is a Python keyword: the field is declared under its query name below.
    to = serializers.FloatField(min_value=0, max_value=7 * 24 * 3600, help_text="Seconds into the stream (exclusive)")

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = serializers.FloatField(
            min_value=0, max_value=7 * 24 * 3600, help_text="Seconds into the stream (inclusive)"
        )
        return fields

    def validate(self, attrs):
        if not attrs["from"] <= attrs["to"] <= attrs["from"] + selectors.CHAT_REPLAY_MAX_SECONDS:
            raise ApplicationError(
                f"`to` is from `from` to `from` + {selectors.CHAT_REPLAY_MAX_SECONDS} seconds.",
                code="invalid_range",
                fields={"to": [{"code": "invalid_range", "message": "Out of range."}]},
            )
        return attrs


class ChatAuthorOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    avatar = serializers.CharField()


class ChatReplayMessage(serializers.Serializer):
    id = serializers.IntegerField()
    game = serializers.IntegerField()
    user = ChatAuthorOutput()
    text = serializers.CharField()
    created_at = serializers.DateTimeField()
    offset_seconds = serializers.FloatField(help_text="Seconds into the stream (and its recording)")


class ChatReplayOutput(serializers.Serializer):
    game = serializers.IntegerField()
    stream_started_at = serializers.DateTimeField()
    to = serializers.FloatField()
    truncated = serializers.BooleanField(help_text="More messages in the range than one answer holds (500)")
    messages = ChatReplayMessage(many=True)

    def get_fields(self):
        return {**super().get_fields(), "from": serializers.FloatField()}


class ChatReplayView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="replayChat",
        summary="Replay a game's chat in step with its recording",
        description="The chat between two offsets into the stream (`from`, `to` seconds; at most 600 apart), "
        "oldest first, each with its offset; moderated messages left out; at most 500 (`truncated`).",
        tags=["live"],
        parameters=[ChatReplayQuery],
        responses={200: ChatReplayOutput},
        extensions=error_codes({400: ["invalid_range"]}),
    )
    def get(self, request, game_id: int):
        query = ChatReplayQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        replay = selectors.chat_replay(
            game_id=game_id, start=query.validated_data["from"], end=query.validated_data["to"]
        )
        return Response(ChatReplayOutput(replay).data)


class KeyMomentInput(InputSerializer):
    key_moment = serializers.ChoiceField(
        choices=GameEvent.KeyMoment.choices, allow_blank=True, help_text="A kind of key moment; empty unmarks"
    )


class PlayKeyMomentView(APIView):
    @extend_schema(
        operation_id="markKeyMoment",
        summary="Mark a play as a key moment",
        description="Scorekeepers and editors: `key_moment` (goal, touchdown, red_card...; empty unmarks). "
        "The key-moment timeline of the game's recording lists it.",
        tags=["live"],
        request=KeyMomentInput,
        responses={200: PlayOutput},
    )
    def patch(self, request, play_id: int):
        data = KeyMomentInput(data=request.data)
        data.is_valid(raise_exception=True)
        play = play_key_moment_set(actor=request.user, play_id=play_id, key_moment=data.validated_data["key_moment"])
        return Response(play_data(play))
