from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from analytics import services
from analytics.api.serializers import EventBatchDocSerializer, EventBatchInputSerializer, EventBatchResultSerializer
from csn.api.errors import error_body

# Request headers an app sets once per session; kept on each event for enrichment.
CONTEXT_HEADERS = {
    "user_agent": ("HTTP_USER_AGENT", 300),
    "app_version": ("HTTP_X_APP_VERSION", 64),
    "device": ("HTTP_X_DEVICE", 64),
}


class AnalyticsRateThrottle(ScopedRateThrottle):
    """Per user. Fails open when the cache (Redis) is down: losing the limit for a while beats
    refusing events while Redis recovers."""

    def allow_request(self, request, view):
        try:
            return super().allow_request(request, view)
        except Exception:
            return True


def request_context(request) -> dict:
    context = {}
    for key, (header, limit) in CONTEXT_HEADERS.items():
        value = request.META.get(header, "").strip()
        if value:
            context[key] = value[:limit]
    return context


class EventIntakeView(APIView):
    """A batch of app events. Each is validated against the catalogue; valid ones are queued and sent
    to PostHog later by a worker; the request itself talks only to the database and Redis."""

    throttle_classes = [AnalyticsRateThrottle]
    throttle_scope = "analytics"

    @extend_schema(
        request=EventBatchDocSerializer,
        responses={
            202: EventBatchResultSerializer,
            400: OpenApiResponse(description="The batch is malformed, or no event in it is valid"),
            413: OpenApiResponse(description="The request body is too large"),
            429: OpenApiResponse(description="Too many requests"),
        },
    )
    def post(self, request):
        data = EventBatchInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        result = services.client_events_record(
            user=request.user, events=data.validated_data["events"], context=request_context(request)
        )
        body = {"accepted": result.accepted, "rejected": result.rejected, "error": None}
        if result.errors:
            message = f"{result.rejected} of {result.accepted + result.rejected} events were refused."
            body["error"] = error_body("some_events_invalid", message, result.errors)["error"]
        return Response(body, status=status.HTTP_202_ACCEPTED)
