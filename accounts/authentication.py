"""API authentication by token."""

from rest_framework import authentication

from accounts.selectors import token_with_user


class TokenAuthentication(authentication.TokenAuthentication):
    """DRF's `Authorization: Token <key>`, with the lookup as one constant statement. A key that finds
    no active user falls back to DRF's own lookup, which refuses it with DRF's own messages."""

    def authenticate_credentials(self, key):
        token = token_with_user(key=key)
        if token is None or not token.user.is_active:
            return super().authenticate_credentials(key)
        return token.user, token
