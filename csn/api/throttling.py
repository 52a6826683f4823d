"""DRF throttles that fail open: while the cache they count in (Redis in production) is unreachable, a
request goes through unthrottled instead of answering 500. Losing a limit for the minutes Redis takes to
come back beats refusing every sign-in and every analytics batch meanwhile."""

import logging

from rest_framework import throttling

from csn.api.ratelimit import rate_limit_note

logger = logging.getLogger(__name__)


class ScopedRateThrottle(throttling.ScopedRateThrottle):
    """DRF's `ScopedRateThrottle` (`throttle_scope` on the view, rates in `DEFAULT_THROTTLE_RATES`),
    failing open. A subclass that counts differently overrides `allow_request_counted`."""

    def allow_request(self, request, view):
        try:
            return self.allow_request_counted(request, view)
        except Exception as exc:
            logger.warning("throttle %s: the cache is unavailable, request let through: %r", self.scope, exc)
            return True

    def allow_request_counted(self, request, view) -> bool:
        allowed = super().allow_request(request, view)
        counted = getattr(self, "rate", None) is not None and getattr(self, "key", None) is not None
        if counted:  # DRF's sliding window: `history`, the requests' times, newest first
            oldest = self.history[-1] if self.history else self.now
            rate_limit_note(
                request,
                policy=self.scope,
                limit=self.num_requests,
                window=self.duration,
                remaining=self.num_requests - len(self.history),
                reset=self.duration - (self.now - oldest),
            )
        return allowed
