"""API authentication by token: `Authorization: Bearer <token>` (or the older `Token <token>`)."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from accounts.services import token_authenticate
from csn.errors import ApplicationError

KEYWORDS = (b"bearer", b"token")


class TokenAuthentication(authentication.BaseAuthentication):
    """A per-device token (accounts.models.AuthToken). A header with another scheme is not ours (None);
    a malformed, unknown, expired, refreshed-away or revoked token is a 401 whose code says which."""

    refresh = False  # the refresh endpoint's: a replaced secret is refused there even in its grace

    def authenticate(self, request):
        parts = authentication.get_authorization_header(request).split()
        if not parts or parts[0].lower() not in KEYWORDS:
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed("Send `Authorization: Bearer <token>`.", code="invalid_token")
        try:
            key = parts[1].decode()
        except UnicodeError:
            raise exceptions.AuthenticationFailed("The token is not valid.", code="invalid_token") from None
        if len(key) > 64:
            raise exceptions.AuthenticationFailed("The token is not valid.", code="invalid_token")
        try:
            token = token_authenticate(key=key, refresh=self.refresh)
        except ApplicationError as exc:
            raise exceptions.AuthenticationFailed(exc.message, code=exc.code) from None
        return token.user, token

    def authenticate_header(self, request):
        return 'Bearer realm="api"'


class TokenRefreshAuthentication(TokenAuthentication):
    """The token refresh endpoint's: only the current secret refreshes; the secret a refresh replaced is
    `token_refreshed` within its grace and, after it, a replay that revokes the device (`token_reused`)."""

    refresh = True


class TokenScheme(OpenApiAuthenticationExtension):
    """The OpenAPI security schemes: HTTP bearer, and the same token under the `Token` prefix."""

    target_class = TokenAuthentication
    match_subclasses = True  # the refresh endpoint's too
    name = ["bearerAuth", "tokenAuth"]

    def get_security_definition(self, auto_schema):
        return [
            {
                "type": "http",
                "scheme": "bearer",
                "description": "A device token from `POST /api/v1/auth/token/`: `Authorization: Bearer <token>`.",
            },
            {
                "type": "apiKey",
                "in": "header",
                "name": "Authorization",
                "description": "The same token with the older prefix: `Authorization: Token <token>`.",
            },
        ]

    def get_security_requirement(self, auto_schema):
        return [{"bearerAuth": []}, {"tokenAuth": []}]  # either one
