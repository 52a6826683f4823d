"""The live gateway at /ws/. Thin: parse, authorize, call a service, send."""

from channels.generic.websocket import AsyncJsonWebsocketConsumer


class GatewayConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self):
        await self.accept()

    async def receive_json(self, content, **kwargs):
        ref = content.get("ref") if isinstance(content, dict) else None
        if isinstance(content, dict) and content.get("type") == "ping":
            await self.send_json({"type": "pong", "ref": ref})
            return
        await self.send_json({"type": "error", "code": "unknown_type", "message": "Unknown message type.", "ref": ref})
