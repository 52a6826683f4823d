"""Helpers for the live tests: drive the real ASGI app with WebsocketCommunicator."""

import asyncio
import json
import math
import time

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


async def second_start() -> None:
    """Sleep until just past a whole second (what live reactions are counted over)."""
    now = time.time()
    await asyncio.sleep(math.floor(now) + 1.05 - now)


def token_for(user) -> str:
    """A new API token of the user (one device's)."""
    from accounts.services import token_issue

    return token_issue(user=user).key


def error_code(call, **kwargs) -> str:
    """The code of the ApplicationError that `call(**kwargs)` raises (the test fails if none)."""
    import pytest

    from csn.errors import ApplicationError

    with pytest.raises(ApplicationError) as info:
        call(**kwargs)
    return info.value.code


# --- plain `websockets` clients, for tests against real daphne processes -------------------------
async def ws_hello(ws):
    """Past the server's `hello` (the first frame on a new socket)."""
    assert json.loads(await asyncio.wait_for(ws.recv(), 10))["type"] == "hello"
    return ws


async def ws_named(ws, name: str, timeout=10) -> dict:
    """The next event called `name` (frames before it are skipped)."""
    while True:
        for event in await ws_events(ws, timeout):
            if event.get("name") == name:
                return event


async def ws_events(ws, timeout=10) -> list[dict]:
    """The events of the next frame (a `batch` unpacked)."""
    message = json.loads(await asyncio.wait_for(ws.recv(), timeout))
    return message["events"] if message["type"] == "batch" else [message]


async def ws_request(ws, message: dict) -> dict:
    await ws.send(json.dumps(message))
    return json.loads(await asyncio.wait_for(ws.recv(), 10))
