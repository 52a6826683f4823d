"""Origin rules for the websocket: who may use the session cookie."""

from channels.security.websocket import AllowedHostsOriginValidator


class OriginGuard:
    """Browsers always send `Origin` on a websocket handshake: an origin outside ALLOWED_HOSTS is refused
    (cross-site websocket hijacking rides the session cookie). A handshake without `Origin` is not a
    browser (a native app): it may connect, but its cookie is dropped, so it signs in with a token
    in the `auth` message."""

    def __init__(self, application):
        self.application = application
        self.validator = AllowedHostsOriginValidator(application)

    async def __call__(self, scope, receive, send):
        headers = scope.get("headers", [])
        if any(name == b"origin" for name, _ in headers):
            return await self.validator(scope, receive, send)
        scope = dict(scope, headers=[(name, value) for name, value in headers if name != b"cookie"])
        return await self.application(scope, receive, send)
