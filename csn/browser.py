"""Django's browser middleware (sessions, the lazy `request.user`, messages), passed by for an API
request that presents a token and no session cookie (an app's request; a browser keeps its session even
when it also sends a token).

Such a request is the token's: `accounts.authentication.TokenAuthentication` comes first on every API view
that authenticates, and for an `Authorization: Bearer|Token ...` header it signs the request in or refuses
it (401) without asking the session; DRF then sets `request.user` itself. No API view reads the session
or adds a message for a token request (sign-out with a token revokes the token; a browser's sign-out has
no token; a password change updates the session's hash only when there is a session). Making the session
store, the lazy user and the message storage cost an eighth of a bare request's instructions
(bench/instructions.py), paid on every signed-in app request for nothing. Every other request (pages, the
admin, the API with a session cookie or no credential) goes through them as before. Django's CSRF
middleware stays as it is (the deploy checklist names it; the API's views are exempt from it anyway)."""

from django.conf import settings
from django.contrib.auth.middleware import AuthenticationMiddleware
from django.contrib.messages.middleware import MessageMiddleware
from django.contrib.sessions.middleware import SessionMiddleware

API_PREFIX = "/api/"
_SCHEMES = ("bearer ", "token ")  # TokenAuthentication's keywords, then the separator
_MEMO = "_csn_token_api_request"


def token_api_request(request) -> bool:
    """An API request presenting a token and no session cookie (remembered on the request: three
    middlewares ask)."""
    answer = request.__dict__.get(_MEMO)
    if answer is None:
        answer = (
            request.path_info.startswith(API_PREFIX)
            and request.META.get("HTTP_AUTHORIZATION", "")[:7].lower().startswith(_SCHEMES)
            and settings.SESSION_COOKIE_NAME not in request.COOKIES
        )
        request.__dict__[_MEMO] = answer
    return answer


class _ForBrowsers:
    def __call__(self, request):
        if token_api_request(request):
            return self.get_response(request)
        return super().__call__(request)


class BrowserSessionMiddleware(_ForBrowsers, SessionMiddleware):
    pass


class BrowserAuthenticationMiddleware(_ForBrowsers, AuthenticationMiddleware):
    pass


class BrowserMessageMiddleware(_ForBrowsers, MessageMiddleware):
    pass
