"""Origin rules for the websocket: who may use the session cookie."""

from channels.security.websocket import OriginValidator
from django.conf import settings


class OriginGuard:
    """Browsers always send `Origin` on a websocket handshake: it must be one of WS_ALLOWED_ORIGINS,
    compared whole (scheme, host and port: another app on an allowed host name, say on another port or
    over plain http, would otherwise ride the session cookie). A handshake without `Origin` is not a
    browser (a native app): it may connect, but its cookie is dropped, so it signs in with a token in
    the `auth` message."""

    def __init__(self, application):
        self.application = application

    async def __call__(self, scope, receive, send):
        headers = scope.get("headers", [])
        if any(name == b"origin" for name, _ in headers):
            # Settings read at each handshake; every allowed origin names its scheme (settings check),
            # so Channels' validator compares scheme, host and port (default ports filled in).
            return await OriginValidator(self.application, settings.WS_ALLOWED_ORIGINS)(scope, receive, send)
        scope = dict(scope, headers=[(name, value) for name, value in headers if name != b"cookie"])
        return await self.application(scope, receive, send)
