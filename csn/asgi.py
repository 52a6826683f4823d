"""One ASGI app: Django over HTTP, and the live gateway at /ws/."""

import gc
import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "csn.settings")
django.setup(set_prefix=False)

from django.conf import settings  # noqa: E402

# A server process holds many long-lived objects (a thousand sockets' consumers, the hub); Python's
# default first-generation threshold (700 allocations) collects so often that the older generations'
# collections paused fan-out for tens of milliseconds: p95 delivery 290-440 ms at 1,000 sockets and
# 10 msg/s, 70 ms with 50,000 (bench live). Only the first threshold changes.
gc.set_threshold(settings.SERVER_GC_THRESHOLD, *gc.get_threshold()[1:])

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
