"""DRF throttles that fail open: while the cache they count in (Redis in production) is unreachable, a
request goes through unthrottled instead of answering 500. Losing a limit for the minutes Redis takes to
come back beats refusing every sign-in and every analytics batch meanwhile."""

import logging

from rest_framework import throttling

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
        return super().allow_request(request, view)
