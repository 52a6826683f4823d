"""Polls and predictions over HTTP: moderators open them; anyone reads a poll's results; a viewer reads
their prediction record. Votes and picks travel on the socket (`poll.vote`, `prediction.pick`). Thin."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from csn.api.schema import error_codes
from csn.api.serializers import InputSerializer
from csn.errors import NotFoundError
from streaming.live import selectors
from streaming.live.models import Poll, Prediction
from streaming.live.representation import prediction_data
from streaming.live.services import engagement


class PollInput(InputSerializer):
    question = serializers.CharField(max_length=200)
    options = serializers.ListField(child=serializers.CharField(max_length=80), min_length=2, max_length=5)
    opens_at = serializers.DateTimeField(required=False, allow_null=True, help_text="Empty: now")
    closes_at = serializers.DateTimeField()


class PollOutput(serializers.Serializer):
    id = serializers.IntegerField()
    game = serializers.IntegerField()
    question = serializers.CharField()
    options = serializers.ListField(child=serializers.CharField())
    counts = serializers.ListField(child=serializers.IntegerField(), help_text="Votes per option, in order")
    opens_at = serializers.DateTimeField()
    closes_at = serializers.DateTimeField()
    open = serializers.BooleanField()
    your_vote = serializers.IntegerField(allow_null=True)


class GamePollsView(APIView):
    @extend_schema(
        operation_id="createPoll",
        summary="Open a poll in a game's chat",
        description="Moderators: 2 to 5 distinct options, open from `opens_at` (now when empty) to `closes_at` "
        "(within 6 hours). Votes travel on the socket (`poll.vote`); counts are pushed at most once a second.",
        tags=["live"],
        request=PollInput,
        responses={201: PollOutput},
        extensions=error_codes({400: ["invalid_poll"]}),
    )
    def post(self, request, game_id: int):
        data = PollInput(data=request.data)
        data.is_valid(raise_exception=True)
        poll = engagement.poll_create(actor=request.user, game_id=game_id, **data.validated_data)
        return Response(selectors.polls_data([poll], user=request.user)[0], status=status.HTTP_201_CREATED)


class PollView(APIView):
    @extend_schema(
        operation_id="getPoll",
        summary="A poll and its counts",
        description="The poll with its votes per option and your vote; results are kept after it closes.",
        tags=["live"],
        responses={200: PollOutput},
    )
    def get(self, request, poll_id: int):
        poll = Poll.objects.filter(pk=poll_id).first()
        if poll is None:
            raise NotFoundError("No such poll.", code="not_found")
        return Response(selectors.polls_data([poll], user=request.user)[0])


class PredictionInput(InputSerializer):
    kind = serializers.ChoiceField(choices=Prediction.Kind.choices)
    line = serializers.DecimalField(
        max_digits=7, decimal_places=1, required=False, allow_null=True, coerce_to_string=False
    )
    lock_at_kickoff = serializers.BooleanField(required=False, default=True)
    locks_at = serializers.DateTimeField(required=False, allow_null=True)


class PredictionOutput(serializers.Serializer):
    id = serializers.IntegerField()
    game = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=Prediction.Kind.choices)
    choices = serializers.ListField(child=serializers.CharField())
    line = serializers.FloatField(allow_null=True)
    locks_at = serializers.DateTimeField(allow_null=True)
    status = serializers.ChoiceField(choices=Prediction.Status.choices)
    outcome = serializers.CharField(allow_null=True)


class GamePredictionsView(APIView):
    @extend_schema(
        operation_id="createPrediction",
        summary="Open a prediction on a game",
        description="Moderators: `winner` and `over_under` (with a `line`) lock at kickoff unless "
        "`lock_at_kickoff` is false, or at `locks_at`; all resolve from the scorekeeper's play-by-play "
        "(`next_score` at the next score change, the others at the final whistle). Picks travel on the socket.",
        tags=["live"],
        request=PredictionInput,
        responses={201: PredictionOutput},
        extensions=error_codes({400: ["invalid_prediction"], 409: ["game_final", "game_live"]}),
    )
    def post(self, request, game_id: int):
        data = PredictionInput(data=request.data)
        data.is_valid(raise_exception=True)
        prediction = engagement.prediction_create(actor=request.user, game_id=game_id, **data.validated_data)
        return Response(prediction_data(prediction), status=status.HTTP_201_CREATED)


class RecordOutput(serializers.Serializer):
    resolved = serializers.IntegerField(help_text="Picks on predictions that resolved")
    correct = serializers.IntegerField()
    wrong = serializers.IntegerField()


class PredictionRecordView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="getPredictionRecord",
        summary="Your prediction record",
        description="Your picks on predictions that resolved: how many, right and wrong.",
        tags=["live"],
        responses={200: RecordOutput},
    )
    def get(self, request):
        return Response(selectors.prediction_record(user=request.user))
