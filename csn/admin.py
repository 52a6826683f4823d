"""The admin site: Django's, with sign-in attempts throttled like the API's (`login` rate).

Every POST to /admin/login/ counts against the client address (one budget with the API's token
sign-in) and against the account it names; past the rate the attempt is refused with a 429 before
the password is checked, even a right one."""

import hashlib

from django.contrib import admin
from django.http import HttpResponse
from django.utils.html import format_html
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

LOGIN_SCOPE = "login"


class LoginAttemptThrottle(SimpleRateThrottle):
    """DRF's sliding window on the `login` rate, for the client address (the API's ScopedRateThrottle
    key: one budget for both) or, given one, for an account."""

    scope = LOGIN_SCOPE

    def __init__(self, account: str = ""):
        self.account = account
        super().__init__()

    def get_rate(self):
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def get_cache_key(self, request, view):
        ident = self.get_ident(request)
        if self.account:
            ident = "account-" + hashlib.sha256(self.account.encode()).hexdigest()
        return self.cache_format % {"scope": self.scope, "ident": ident}


def login_attempt_wait(request) -> float | None:
    """Record one sign-in attempt; None when it may go on, else the seconds until the next one may."""
    account = (request.POST.get("username") or "").strip().lower()
    throttles = [LoginAttemptThrottle(), *([LoginAttemptThrottle(account)] if account else [])]
    refused = [throttle for throttle in throttles if not throttle.allow_request(request, None)]
    if not refused:
        return None
    return max(throttle.wait() or 1 for throttle in refused)


class AdminSite(admin.AdminSite):
    """CSN Studio: Django's admin, branded, with the dashboard (csn.studio.dashboard) on its index."""

    site_header = "CSN Studio"
    site_title = "CSN Studio"
    index_title = "Dashboard"
    index_template = "admin/studio_index.html"

    def index(self, request, extra_context=None):
        from csn.studio.dashboard import dashboard_render

        extra_context = {**(extra_context or {}), "dashboard": dashboard_render(request)}
        return super().index(request, extra_context)

    def login(self, request, extra_context=None):
        if request.method == "POST":
            wait = login_attempt_wait(request)
            if wait is not None:
                seconds = max(1, int(wait))
                response = HttpResponse(
                    format_html(
                        "<h1>Too many sign-in attempts</h1><p>Try again in {} seconds.</p>"
                        '<p><a href="{}">Back to sign-in</a></p>',
                        seconds,
                        request.get_full_path(),
                    ),
                    status=429,
                )
                response["Retry-After"] = str(seconds)
                return response
        return super().login(request, extra_context)
