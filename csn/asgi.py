"""One ASGI app: Django over HTTP, and the live gateway at /ws/."""

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "csn.settings")
django.setup(set_prefix=False)

from csn.asgi_http import SyncASGIHandler  # noqa: E402

django_asgi_app = SyncASGIHandler()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from streaming.routing import websocket_urlpatterns  # noqa: E402
from streaming.security import OriginGuard  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        # Origin checked against ALLOWED_HOSTS (cross-site websocket hijacking rides the session
        # cookie); native apps send no Origin: their cookie is ignored and they auth by token message.
        "websocket": OriginGuard(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)
