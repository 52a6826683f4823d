"""One ASGI app: Django over HTTP, and the live gateway at /ws/."""

import gc
import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "csn.settings")
django.setup(set_prefix=False)

from django.conf import settings  # noqa: E402

# Garbage collection pauses every thread of the process (HTTP workers and the live event loop alike).
# A DRF request leaves about 120 objects in reference cycles (view, request, response, serializer
# fields), so young collections are a steady cost, and full ones scanned every object Django made at
# start-up (tens of ms, at random). Measured by the benches (PUT progress, 200 req/s, 2 processes;
# fan-out to 1,000 sockets): Python's defaults gave p95 spikes of 100-200 ms; a threshold of 50,000
# allocations made each young collection a 60-140 ms pause (40,000 objects); 2,000-10,000 with the
# start-up objects frozen (never scanned again, below) gave p95 10-13 ms and p99 17-22 ms.
gc.set_threshold(settings.SERVER_GC_THRESHOLD, *gc.get_threshold()[1:])

from csn import telemetry  # noqa: E402
from csn.asgi_http import SyncASGIHandler  # noqa: E402

telemetry.setup()  # CSN_OTEL=1: before the handler loads the middleware the instrumentation adds

django_asgi_app = SyncASGIHandler()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from streaming.live.routing import websocket_urlpatterns  # noqa: E402
from streaming.live.security import OriginGuard  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        # Origin checked against WS_ALLOWED_ORIGINS (cross-site websocket hijacking rides the session
        # cookie); native apps send no Origin: their cookie is ignored and they auth by token message.
        "websocket": OriginGuard(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)

# Everything built so far lives as long as the process: keep it out of every later collection.
gc.collect()
gc.freeze()
