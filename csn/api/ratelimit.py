"""Rate-limit headers from the throttles (IETF draft-ietf-httpapi-ratelimit-headers):

    RateLimit-Policy: "user_write";q=300;w=60     the policy: q requests a w-second window
    RateLimit: "user_write";r=299;t=42            r requests left, the window resets in t seconds

The throttles (csn.api.rates, csn.api.throttling, analytics' intake throttle) note what they counted on
the request; of several, the one with the fewest requests left is the one to show. The middleware
writes the headers on the way out, whatever the answer (a 429 also has `Retry-After`). A throttle whose
cache is down counts nothing and notes nothing: no headers then."""

import math
from dataclasses import dataclass

ATTRIBUTE = "csn_rate_limit"


@dataclass(frozen=True)
class RateLimit:
    policy: str
    limit: int
    window: int
    remaining: int
    reset: int


def rate_limit_note(request, *, policy: str, limit: int, window: int, remaining: int, reset: float) -> None:
    """Record a throttle's count on the request (a DRF Request or Django's HttpRequest)."""
    http_request = getattr(request, "_request", request)
    note = RateLimit(policy, limit, int(window), max(0, remaining), max(0, math.ceil(reset)))
    current = getattr(http_request, ATTRIBUTE, None)
    if current is None or note.remaining < current.remaining:
        setattr(http_request, ATTRIBUTE, note)


def rate_limit_headers(note: RateLimit) -> dict[str, str]:
    return {
        "RateLimit-Policy": f'"{note.policy}";q={note.limit};w={note.window}',
        "RateLimit": f'"{note.policy}";r={note.remaining};t={note.reset}',
    }


class RateLimitHeadersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        note = getattr(request, ATTRIBUTE, None)
        if note is not None:
            for name, value in rate_limit_headers(note).items():
                response.headers.setdefault(name, value)
        return response
