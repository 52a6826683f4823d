"""Open-loop HTTP load at a fixed request rate over keep-alive connections (asyncio, no extra deps).

Latency is measured from each request's scheduled start, so a slow server cannot hide its queueing
(no coordinated omission).
"""

import asyncio
import time
from collections.abc import Callable
from urllib.parse import urlsplit


class _Connection:
    def __init__(self, host: str, port: int):
        self.host, self.port = host, port
        self.reader = self.writer = None

    async def request(self, method: str, path: str, headers: dict, body: bytes) -> int:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        head = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}", f"Content-Length: {len(body)}"]
        head += [f"{k}: {v}" for k, v in headers.items()]
        self.writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + body)
        await self.writer.drain()
        status_line = await self.reader.readline()
        if not status_line:
            raise ConnectionError("closed")
        status = int(status_line.split()[1])
        length, chunked, close = 0, False, False
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b""):
                break
            name, _, value = line.decode("latin-1").partition(":")
            name, value = name.strip().lower(), value.strip()
            if name == "content-length":
                length = int(value)
            elif name == "transfer-encoding" and "chunked" in value.lower():
                chunked = True
            elif name == "connection" and value.lower() == "close":
                close = True
        if chunked:
            while True:
                size = int((await self.reader.readline()).strip(), 16)
                await self.reader.readexactly(size + 2)
                if size == 0:
                    break
        elif length:
            await self.reader.readexactly(length)
        if close:
            self.close()
        return status

    def close(self):
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


async def _run(base_url: str, make_request: Callable[[int], tuple], rate: float, duration: float, pool: int):
    parts = urlsplit(base_url)
    idle: asyncio.Queue = asyncio.Queue()
    for _ in range(pool):
        idle.put_nowait(_Connection(parts.hostname, parts.port))
    latencies: list[float] = []
    statuses: list[int | str] = []
    errors: dict[int | str, int] = {}
    total = int(rate * duration)
    start = time.perf_counter() + 0.1

    async def one(i: int):
        scheduled = start + i / rate
        await asyncio.sleep(max(0.0, scheduled - time.perf_counter()))
        method, path, headers, body = make_request(i)
        conn = await idle.get()
        try:
            status = await conn.request(method, path, headers, body)
            if status >= 400:
                errors[status] = errors.get(status, 0) + 1
        except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
            conn.close()
            status = type(exc).__name__
            errors[status] = errors.get(status, 0) + 1
        finally:
            idle.put_nowait(conn)
        latencies.append((time.perf_counter() - scheduled) * 1000)
        statuses.append(status)

    await asyncio.gather(*(one(i) for i in range(total)))
    while not idle.empty():
        idle.get_nowait().close()
    return latencies, errors, statuses


def fixed_rate(
    base_url: str, make_request: Callable[[int], tuple], *, rate: float, duration: float, pool: int = 32
) -> tuple[list[float], dict]:
    """Send `rate` requests/s for `duration` s. `make_request(i)` -> (method, path, headers, body bytes).
    Returns (latencies in ms, {status or error name: count})."""
    latencies, errors, _ = asyncio.run(_run(base_url, make_request, rate, duration, pool))
    return latencies, errors


def fixed_rate_by_status(
    base_url: str, make_request: Callable[[int], tuple], *, rate: float, duration: float, pool: int = 32
) -> dict[int | str, list[float]]:
    """`fixed_rate`, the latencies by response status (or error name)."""
    latencies, _, statuses = asyncio.run(_run(base_url, make_request, rate, duration, pool))
    by_status: dict[int | str, list[float]] = {}
    for latency, status in zip(latencies, statuses, strict=True):
        by_status.setdefault(status, []).append(latency)
    return by_status
