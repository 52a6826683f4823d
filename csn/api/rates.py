"""The default throttles of every API endpoint that names none of its own (REST_FRAMEWORK settings).

Signed-in requests count per user, anonymous ones per client address (REMOTE_ADDR, or X-Forwarded-For
behind `CSN_NUM_PROXIES` trusted proxies); reads (GET, HEAD, OPTIONS) and writes have their own rates
(`user_read`, `user_write`, `anon_read`, `anon_write`). The count is a fixed window in the cache, one
counter a window: DRF's sliding window reads and rewrites a list of every request's time (up to the
rate's size) on each request, too dear for a default on every call. A cache that fails lets the request
through: losing the limit for a while beats refusing every request while it recovers."""

import logging
import time

from django.core.cache import cache as default_cache
from rest_framework import throttling
from rest_framework.permissions import SAFE_METHODS
from rest_framework.settings import api_settings

from csn.api.ratelimit import rate_limit_note

logger = logging.getLogger(__name__)


class _ReadWriteRateThrottle(throttling.SimpleRateThrottle):
    cache = default_cache
    kind = ""  # "user" or "anon": the scope is f"{kind}_read" or f"{kind}_write"

    def __init__(self):  # the rate depends on the request: see allow_request
        pass

    def ident_for(self, request) -> str | None:
        raise NotImplementedError

    def allow_request(self, request, view):
        ident = self.ident_for(request)
        if ident is None:
            return True
        self.scope = f"{self.kind}_{'read' if request.method in SAFE_METHODS else 'write'}"
        rate = api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)
        if not rate:
            return True
        self.num_requests, self.duration = self.parse_rate(rate)
        now = time.time()
        window = int(now // self.duration)
        self.window_end = (window + 1) * self.duration
        self.now = now
        key = f"throttle_{self.scope}_{ident}_{window}"
        try:
            count = self._count(key)
        except Exception:
            logger.warning("throttle cache unavailable; %s not counted", self.scope, exc_info=True)
            return True
        rate_limit_note(
            request,
            policy=self.scope,
            limit=self.num_requests,
            window=self.duration,
            remaining=self.num_requests - count,
            reset=self.window_end - now,
        )
        return count <= self.num_requests

    def _count(self, key: str) -> int:
        """This request's number in its window (atomic on Redis: INCR, one round trip with csn.cache)."""
        if hasattr(self.cache, "count"):
            return self.cache.count(key, self.duration + 1)
        try:
            return self.cache.incr(key)
        except ValueError:  # the window's first request, or two firsts at once
            if self.cache.add(key, 1, timeout=self.duration + 1):
                return 1
            return self.cache.incr(key)

    def wait(self):
        return max(1.0, self.window_end - self.now)


class UserRateThrottle(_ReadWriteRateThrottle):
    """A signed-in user's requests (scopes `user_read`, `user_write`)."""

    kind = "user"

    def ident_for(self, request):
        return str(request.user.pk) if request.user and request.user.is_authenticated else None


class AnonRateThrottle(_ReadWriteRateThrottle):
    """An anonymous client's requests, by address (scopes `anon_read`, `anon_write`)."""

    kind = "anon"

    def ident_for(self, request):
        return None if request.user and request.user.is_authenticated else self.get_ident(request)
