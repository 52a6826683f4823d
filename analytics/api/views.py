import functools
import re
import uuid

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from analytics.api.serializers import EventBatchDocSerializer, EventBatchResultSerializer, batch_events
from analytics.services import intake
from csn.api.errors import error_item
from csn.api.ratelimit import rate_limit_note
from csn.api.throttling import ScopedRateThrottle

# Request headers an app sets once per session; kept on each event for enrichment.
CONTEXT_HEADERS = {
    "user_agent": ("HTTP_USER_AGENT", 300),
    "app_version": ("HTTP_X_APP_VERSION", 64),
    "device": ("HTTP_X_DEVICE", 64),
}


def _cache_location() -> str:
    """The default cache's Redis URL (the first one, which Django's RedisCache writes to)."""
    location = settings.CACHES["default"]["LOCATION"]
    servers = re.split("[;,]", location) if isinstance(location, str) else list(location)
    return servers[0]


@functools.cache
def _cache_redis(location: str):
    """A Redis client on the cache's server, one per process and location (its pool is thread-safe)."""
    import redis

    return redis.Redis.from_url(location)


class AnalyticsRateThrottle(ScopedRateThrottle):
    """Per user, DRF's sliding window; fails open when the cache (Redis) is down (csn.api.throttling).

    On Redis the window is a sorted set updated in one MULTI round trip (DRF's own throttle reads and
    rewrites a pickled list of up to 600 timestamps: two round trips). A refused request is taken out
    of the window again, as DRF does not record refusals. Other caches use DRF's throttle."""

    def allow_request_counted(self, request, view) -> bool:
        if isinstance(caches["default"], RedisCache):
            return self._allow_on_redis(request, view)
        return super().allow_request_counted(request, view)

    def _allow_on_redis(self, request, view) -> bool:
        self.scope = getattr(view, self.scope_attr, None)
        if not self.scope:
            return True
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        if self.rate is None:
            return True
        key = self.get_cache_key(request, view)
        if key is None:
            return True
        key = self.cache.make_and_validate_key(key) + ":window"
        self.now = now = self.timer()
        member = f"{now}:{uuid.uuid4().hex}"
        client = _cache_redis(_cache_location())
        pipe = client.pipeline(transaction=True)
        pipe.zremrangebyscore(key, "-inf", now - self.duration)
        pipe.zadd(key, {member: now})
        pipe.zcard(key)
        pipe.zrange(key, 0, 0, withscores=True)
        pipe.expire(key, self.duration + 1)
        _, _, count, oldest, _ = pipe.execute()
        reset = self.duration - (now - oldest[0][1]) if oldest else float(self.duration)
        rate_limit_note(
            request,
            policy=self.scope,
            limit=self.num_requests,
            window=self.duration,
            remaining=self.num_requests - count,
            reset=reset,
        )
        if count <= self.num_requests:
            return True
        client.zrem(key, member)
        self._wait = max(0.0, reset)
        return False

    def wait(self):
        if isinstance(caches["default"], RedisCache):
            return getattr(self, "_wait", None)
        return super().wait()


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
        operation_id="sendAnalyticsEvents",
        summary="Send app analytics events",
        description="A batch of up to 50 app events, each validated against the event catalogue "
        "(docs/analytics.md): 202 with the refused ones in `error.fields`; 400 `invalid` when none is valid.",
        request=EventBatchDocSerializer,
        responses={202: EventBatchResultSerializer},
    )
    def post(self, request):
        result = intake.client_events_record(
            user=request.user, events=batch_events(request.data), context=request_context(request)
        )
        body = {"accepted": result.accepted, "rejected": result.rejected, "error": None}
        if result.errors:
            message = f"{result.rejected} of {result.accepted + result.rejected} events were refused."
            body["error"] = error_item("some_events_invalid", message, result.errors)
        return Response(body, status=status.HTTP_202_ACCEPTED)
