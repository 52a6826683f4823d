"""Helpers for the live tests: drive the real ASGI app with WebsocketCommunicator."""

import asyncio
import json

from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from csn.asgi import application
from streaming.tests import asyncapi

db = database_sync_to_async


class Client:
    """One websocket to /ws/ through the full ASGI stack (origin guard, sessions, auth)."""

    def __init__(self, path: str = "/ws/", headers=None):
        self.communicator = WebsocketCommunicator(application, path, headers=headers or [])
        self.hello: dict | None = None
        self.seen: list[str] = []  # the AsyncAPI messages received, in order

    async def connect(self):
        """Connected, past the server's `hello` (kept in `self.hello`)."""
        connected, code = await self.communicator.connect()
        assert connected, code
        self.hello = await self.recv()
        assert self.hello["type"] == "hello", self.hello
        return self

    async def send(self, message) -> None:
        if isinstance(message, str):
            await self.communicator.send_to(text_data=message)
        else:
            await self.communicator.send_json_to(message)

    async def recv(self, timeout: float = 3) -> dict:
        """The next frame, checked against the AsyncAPI document."""
        frame = json.loads(await self.communicator.receive_from(timeout))
        self.seen.extend(asyncapi.server_frame(frame))
        return frame

    async def recv_events(self, count: int, timeout: float = 3) -> list[dict]:
        """The next `count` events, unpacking `batch` frames."""
        events: list[dict] = []
        while len(events) < count:
            message = await self.recv(timeout)
            events.extend(message["events"] if message["type"] == "batch" else [message])
        return events

    async def request(self, message: dict, timeout: float = 3) -> dict:
        await self.send(message)
        return await self.recv(timeout)

    async def nothing(self, timeout: float = 0.3) -> bool:
        return await self.communicator.receive_nothing(timeout)

    async def close(self):
        await self.communicator.disconnect()


async def settle(seconds: float = 0.05):
    await asyncio.sleep(seconds)
