"""A small HTTP server that speaks PostHog's capture API (`POST /batch/`, `/capture/`, `/e/`, `/i/v0/e/`),
for tests and benchmarks. It records what arrives, deduplicates by uuid as PostHog does, and can be told
to fail (503) or to hold requests. Runs in a thread (`FakePostHog().start()`) or as a process:
`python -m analytics.tests.fake_posthog` prints its port, counts events, answers `GET /_stats` and
`GET /_latencies` (each event's arrival minus its timestamp, for the delivery-latency bench).
"""

import gzip
import json
import socket
import sys
import threading
import time
from collections import Counter
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CAPTURE_PATHS = {"/batch/", "/batch", "/capture/", "/e/", "/i/v0/e/", "/track/"}


class FakePostHog:
    def __init__(self, *, api_key: str = "phc_test_key", record: bool = True):
        self.api_key = api_key
        self.record = record
        self.lock = threading.Lock()
        self.events: dict[str, dict] = {}  # uuid -> event, first arrival (what PostHog keeps)
        self.arrivals: Counter = Counter()  # uuid -> accepted deliveries, duplicates included
        self.requests = 0
        self.accepted_events = 0
        self.fail_remaining = 0
        self.fail_status = 503
        self.received = threading.Event()  # set by every capture request
        self.hold: threading.Event | None = None  # when set, requests wait for it after recording
        self.delay = 0.0  # seconds each capture request takes, to make relays overlap
        self.latencies_ms: list[float] = []  # per accepted event: its arrival minus its timestamp
        self.server: ThreadingHTTPServer | None = None

    # --- control -------------------------------------------------------------------------------
    def fail_next(self, count: int, status: int = 503) -> None:
        with self.lock:
            self.fail_remaining, self.fail_status = count, status

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> "FakePostHog":
        fake = self

        class Handler(_Handler):
            owner = fake

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, name="fake-posthog", daemon=True).start()
        return self

    def stop(self) -> None:
        if self.hold is not None:
            self.hold.set()
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # --- what the handler calls ----------------------------------------------------------------
    def handle_capture(self, body: dict) -> tuple[int, dict]:
        with self.lock:
            self.requests += 1
            if body.get("api_key") != self.api_key:
                return 401, {"type": "authentication_error", "detail": "Project API key invalid."}
            if self.fail_remaining > 0:
                self.fail_remaining -= 1
                return self.fail_status, {"detail": "unavailable"}
            batch = body.get("batch")
            if batch is None:  # single-event endpoints
                batch = [body]
            for event in batch:
                uuid = event.get("uuid")
                if not uuid or not event.get("event") or "distinct_id" not in event:
                    return 400, {"type": "validation_error", "detail": "event needs uuid, event, distinct_id"}
            now = time.time()
            for event in batch:
                self.accepted_events += 1
                self.latencies_ms.append((now - _epoch(event.get("timestamp"), now)) * 1000)
                if self.record:
                    self.arrivals[event["uuid"]] += 1
                    self.events.setdefault(event["uuid"], event)
        self.received.set()
        return 200, {"status": 1}

    def stats(self) -> dict:
        with self.lock:
            return {"requests": self.requests, "accepted_events": self.accepted_events, "unique": len(self.events)}

    def latencies(self) -> dict:
        with self.lock:
            return {"requests": self.requests, "latencies_ms": list(self.latencies_ms)}


def _epoch(timestamp, default: float) -> float:
    """An event's ISO 8601 timestamp in seconds since the epoch (`default` when missing or unreadable)."""
    try:
        return datetime.fromisoformat(timestamp).timestamp()
    except (TypeError, ValueError):
        return default


class _Handler(BaseHTTPRequestHandler):
    owner: FakePostHog
    protocol_version = "HTTP/1.1"  # keep-alive, as the SDK's session expects

    def setup(self):
        super().setup()
        # Headers and body go out in two writes; without this, Nagle plus the client's delayed ACK
        # add ~40 ms to every answer, which real servers do not.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format, *args):
        pass

    def _reply(self, status: int, payload: dict) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path == "/_stats":
            self._reply(200, self.owner.stats())
        elif self.path == "/_latencies":
            self._reply(200, self.owner.latencies())
        else:
            self._reply(404, {"detail": "not found"})

    def do_POST(self):
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path.split("?")[0] not in CAPTURE_PATHS:
            self._reply(404, {"detail": "not found"})
            return
        try:
            if self.headers.get("Content-Encoding") == "gzip":
                raw = gzip.decompress(raw)
            body = json.loads(raw)
        except (OSError, ValueError):
            self._reply(400, {"detail": "invalid body"})
            return
        if self.owner.delay:
            time.sleep(self.owner.delay)
        status, payload = self.owner.handle_capture(body)
        hold = self.owner.hold
        if hold is not None:
            hold.wait(30)
        self._reply(status, payload)


if __name__ == "__main__":
    # Benchmark mode: count only, print the port, serve until killed.
    fake = FakePostHog(api_key=sys.argv[1] if len(sys.argv) > 1 else "phc_test_key", record=False).start()
    print(fake.server.server_address[1], flush=True)
    threading.Event().wait()
