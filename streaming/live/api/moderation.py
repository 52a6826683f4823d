"""Chat moderation and engagement endpoints: reports, the review queue, held messages, bans, pins. Thin:
validate the body, call the service, render with the live representation."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from csn.api.serializers import InputSerializer
from streaming.live import selectors
from streaming.live.models import ChatMessage, ChatReport
from streaming.live.permissions import moderator_required
from streaming.live.representation import chat_message_data
from streaming.live.services import engagement, moderation


class ChatUserOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    avatar = serializers.CharField(required=False)


class QuoteOutput(serializers.Serializer):
    id = serializers.IntegerField()
    user = ChatUserOutput()
    text = serializers.CharField()


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

    @extend_schema(request=ReportInput, responses={201: ReportCreatedOutput}, summary="Report a chat message")
    def post(self, request, message_id: int):
        data = ReportInput(data=request.data)
        data.is_valid(raise_exception=True)
        report = moderation.chat_message_report(user=request.user, message_id=message_id, **data.validated_data)
        return Response({"id": report.pk, "status": report.status}, status=status.HTTP_201_CREATED)


class ModerationQueueView(APIView):
    @extend_schema(responses={200: QueueOutput}, summary="Moderator: a chat's held messages and open reports")
    def get(self, request, game_id: int):
        moderator_required(request.user)
        selectors.access_game(game_id)
        return Response(selectors.moderation_queue(game_id=game_id))


class ReviewInput(InputSerializer):
    decision = serializers.ChoiceField(choices=["approve", "reject"])
    reason = serializers.CharField(max_length=280, required=False, allow_blank=True, default="")


class ChatMessageReviewView(APIView):
    @extend_schema(
        request=ReviewInput,
        responses={200: ChatMessageOutput},
        summary="Moderator: approve or reject a held message (409 already_reviewed if another moderator was first)",
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
        request=ResolveInput,
        responses={200: ReportCreatedOutput},
        summary="Moderator: act on a report (409 already_resolved if another moderator was first)",
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
    @extend_schema(request=BanInput, responses={201: BanOutput}, summary="Moderator: ban a user from chat")
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
    @extend_schema(request=PinInput, responses={200: PinOutput}, summary="Moderator: pin a chat message")
    def put(self, request, game_id: int):
        data = PinInput(data=request.data)
        data.is_valid(raise_exception=True)
        chat = engagement.chat_message_pin(
            actor=request.user, game_id=game_id, message_id=data.validated_data["message"]
        )
        pinned: ChatMessage | None = chat.pinned_message
        return Response({"message": chat_message_data(pinned) if pinned else None})
