"""Chat moderation and engagement endpoints: reports, the review queue, held messages, bans, pins. Thin:
validate the body, call the service, render with the live representation."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from csn.api.schema import error_codes
from csn.api.serializers import InputSerializer
from streaming.live import selectors
from streaming.live.models import ChatMessage, ChatReport
from streaming.live.permissions import moderator_required
from streaming.live.representation import chat_message_data
from streaming.live.services import engagement, moderation


class QuotedUserOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class ChatUserOutput(QuotedUserOutput):
    avatar = serializers.CharField()


class QuoteOutput(serializers.Serializer):
    id = serializers.IntegerField()
    user = QuotedUserOutput()
    text = serializers.CharField(help_text="The quoted message's text, cut to 140 characters")


class ChatMessageOutput(serializers.Serializer):
    id = serializers.IntegerField()
    game = serializers.IntegerField()
    user = ChatUserOutput()
    text = serializers.CharField()
    status = serializers.ChoiceField(choices=["published", "pending", "rejected"])
    reply_to = QuoteOutput(allow_null=True)
    created_at = serializers.DateTimeField()


class HeldMessageOutput(ChatMessageOutput):
    held_reason = serializers.CharField()


class ReportedMessageOutput(ChatMessageOutput):
    deleted = serializers.BooleanField()


class ReporterOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    total = serializers.IntegerField(help_text="Reports this user has filed")
    actioned = serializers.IntegerField(help_text="Of them, acted upon")
    dismissed = serializers.IntegerField(help_text="Of them, dismissed")


class ReportOutput(serializers.Serializer):
    id = serializers.IntegerField()
    game = serializers.IntegerField()
    reason = serializers.ChoiceField(choices=ChatReport.Reason.choices)
    note = serializers.CharField()
    status = serializers.ChoiceField(choices=ChatReport.Status.choices)
    created_at = serializers.DateTimeField()
    message = ReportedMessageOutput()
    context = ChatMessageOutput(many=True, help_text="The messages before it, oldest first")
    reporter = ReporterOutput()


class QueueOutput(serializers.Serializer):
    held = HeldMessageOutput(many=True)
    reports = ReportOutput(many=True)


class ReportInput(InputSerializer):
    reason = serializers.ChoiceField(choices=ChatReport.Reason.choices)
    note = serializers.CharField(max_length=280, required=False, allow_blank=True, default="")


class ReportCreatedOutput(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=ChatReport.Status.choices)


class ChatMessageReportView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="reportChatMessage",
        summary="Report a chat message",
        description="A viewer reports a published message to the game's moderators, with a reason. Reporting it "
        "again returns the same report; at most 30 reports an hour.",
        tags=["live"],
        request=ReportInput,
        responses={201: ReportCreatedOutput},
        extensions=error_codes({400: ["invalid_reason", "invalid_report", "invalid_message"], 429: ["rate_limited"]}),
    )
    def post(self, request, message_id: int):
        data = ReportInput(data=request.data)
        data.is_valid(raise_exception=True)
        report = moderation.chat_message_report(user=request.user, message_id=message_id, **data.validated_data)
        return Response({"id": report.pk, "status": report.status}, status=status.HTTP_201_CREATED)


class ModerationQueueView(APIView):
    @extend_schema(
        operation_id="getChatModerationQueue",
        summary="A chat's moderation queue",
        description="Moderators: the game's held messages and open reports, oldest first (each report with the "
        "messages before it and the reporter's record). The `mod:<game>` topic carries the same, live.",
        tags=["live"],
        responses={200: QueueOutput},
    )
    def get(self, request, game_id: int):
        moderator_required(request.user)
        selectors.access_game(game_id)
        return Response(selectors.moderation_queue(game_id=game_id))


class ReviewInput(InputSerializer):
    decision = serializers.ChoiceField(choices=["approve", "reject"])
    reason = serializers.CharField(max_length=280, required=False, allow_blank=True, default="")


class ChatMessageReviewView(APIView):
    @extend_schema(
        operation_id="reviewChatMessage",
        summary="Approve or reject a held chat message",
        description="Moderators: an approved message reaches everyone following the chat; a rejected one nobody. "
        "Of two moderators reviewing at once one wins; the other gets 409 `already_reviewed`.",
        tags=["live"],
        request=ReviewInput,
        responses={200: ChatMessageOutput},
        extensions=error_codes({409: ["already_reviewed"]}),
    )
    def post(self, request, message_id: int):
        data = ReviewInput(data=request.data)
        data.is_valid(raise_exception=True)
        message = moderation.chat_message_review(
            actor=request.user,
            message_id=message_id,
            approve=data.validated_data["decision"] == "approve",
            reason=data.validated_data["reason"],
        )
        return Response(chat_message_data(message))


class ResolveInput(InputSerializer):
    action = serializers.ChoiceField(choices=moderation.ReportAction.ALL)
    reason = serializers.CharField(max_length=280, required=False, allow_blank=True, default="")
    minutes = serializers.IntegerField(min_value=1, max_value=1440, required=False, default=10)


class ChatReportResolveView(APIView):
    @extend_schema(
        operation_id="resolveChatReport",
        summary="Act on a chat report",
        description="Moderators: delete the message, mute its author, ban them from this game's chat or every chat, "
        "or dismiss. Every open report of the message closes; a second moderator gets 409 `already_resolved`.",
        tags=["live"],
        request=ResolveInput,
        responses={200: ReportCreatedOutput},
        extensions=error_codes({400: ["invalid_action", "invalid_minutes"], 409: ["already_resolved"]}),
    )
    def post(self, request, report_id: int):
        data = ResolveInput(data=request.data)
        data.is_valid(raise_exception=True)
        report = moderation.chat_report_resolve(actor=request.user, report_id=report_id, **data.validated_data)
        return Response({"id": report.pk, "status": report.status})


class BanInput(InputSerializer):
    user = serializers.IntegerField(min_value=1)
    everywhere = serializers.BooleanField(required=False, default=False, help_text="Every chat, not just this game's")
    reason = serializers.CharField(max_length=280, required=False, allow_blank=True, default="")


class BanOutput(serializers.Serializer):
    user = serializers.IntegerField()
    game = serializers.IntegerField(allow_null=True)


class ChatBanView(APIView):
    @extend_schema(
        operation_id="banChatUser",
        summary="Ban a user from chat",
        description="Moderators: from this game's chat, or every chat with `everywhere`, until lifted in admin.",
        tags=["live"],
        request=BanInput,
        responses={201: BanOutput},
    )
    def post(self, request, game_id: int):
        data = BanInput(data=request.data)
        data.is_valid(raise_exception=True)
        body = data.validated_data
        ban = moderation.chat_user_ban(
            actor=request.user,
            user_id=body["user"],
            game_id=None if body["everywhere"] else game_id,
            reason=body["reason"],
        )
        return Response({"user": ban.user_id, "game": ban.game_id}, status=status.HTTP_201_CREATED)


class PinInput(InputSerializer):
    message = serializers.IntegerField(min_value=1, allow_null=True, help_text="null unpins")


class PinOutput(serializers.Serializer):
    message = ChatMessageOutput(allow_null=True)


class ChatPinView(APIView):
    @extend_schema(
        operation_id="pinChatMessage",
        summary="Pin a chat message",
        description="Moderators: pin a published message of the game's chat (null unpins); it is in the chat "
        "snapshot and followers get `chat.pinned`.",
        tags=["live"],
        request=PinInput,
        responses={200: PinOutput},
        extensions=error_codes({400: ["invalid_pin"]}),
    )
    def put(self, request, game_id: int):
        data = PinInput(data=request.data)
        data.is_valid(raise_exception=True)
        chat = engagement.chat_message_pin(
            actor=request.user, game_id=game_id, message_id=data.validated_data["message"]
        )
        pinned: ChatMessage | None = chat.pinned_message
        return Response({"message": chat_message_data(pinned) if pinned else None})
