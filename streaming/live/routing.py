from django.urls import path

from streaming.live.consumers import GatewayConsumer

websocket_urlpatterns = [path("ws/", GatewayConsumer.as_asgi())]
