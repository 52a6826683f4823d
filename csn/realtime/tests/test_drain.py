"""The drain's own bookkeeping (the two-process drain runs in streaming/live/tests/test_drain.py): every
registered socket is told to reconnect, with a jittered delay, and counted."""

import asyncio

import pytest
from prometheus_client import REGISTRY

from csn.realtime import drain


class FakeSocket:
    def __init__(self, fails: bool = False):
        self.fails, self.told, self.queue = fails, [], []

    async def drain_reconnect(self, delay_ms: int) -> None:
        if self.fails:
            raise ConnectionResetError("gone")
        self.told.append(delay_ms)
        drain.unregister(self)


def _reconnects() -> float:
    return REGISTRY.get_sample_value("csn_live_drain_reconnects_total") or 0


@pytest.fixture
def fresh(monkeypatch, settings):
    settings.LIVE_RECONNECT_JITTER_MS = 300
    monkeypatch.setattr(drain, "sockets", drain.sockets.__class__())
    monkeypatch.setattr(drain, "draining", False)


def test_every_socket_is_told_with_a_jittered_delay_and_counted(fresh):
    sockets = [FakeSocket() for _ in range(5)]
    broken = FakeSocket(fails=True)
    for socket in [*sockets, broken]:
        drain.register(socket)
    before = _reconnects()

    asyncio.run(drain.drain(window=0.05))

    assert drain.draining is True
    assert all(len(socket.told) == 1 and 0 <= socket.told[0] <= 300 for socket in sockets)
    assert _reconnects() - before == 5  # the socket that could not be told is not counted
    assert list(drain.sockets) == [broken]
    drain.unregister(broken)
