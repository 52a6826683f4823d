"""Django's HTTP side under ASGI (csn.asgi_http): one worker-thread call a request, nothing lost."""

import json

import pytest
from asgiref.sync import SyncToAsync, async_to_sync
from asgiref.testing import ApplicationCommunicator
from django.core import signals

from csn.asgi_http import SyncASGIHandler


def _scope(method: str, path: str, headers=()) -> dict:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver"), *headers],
        "client": ("127.0.0.1", 1234),
        "server": ("testserver", 80),
    }


async def _request(method: str, path: str, body: bytes = b"", headers=()) -> tuple[int, dict, bytes]:
    headers = [*headers, (b"content-length", str(len(body)).encode())] if body else list(headers)
    communicator = ApplicationCommunicator(SyncASGIHandler(), _scope(method, path, headers))
    await communicator.send_input({"type": "http.request", "body": body, "more_body": False})
    start = await communicator.receive_output(5)
    content = b""
    while True:
        message = await communicator.receive_output(5)
        content += message.get("body", b"")
        if not message.get("more_body"):
            break
    await communicator.wait(5)
    return start["status"], dict(start["headers"]), content


@pytest.fixture
def thread_calls(monkeypatch):
    calls = []
    real_call = SyncToAsync.__call__

    async def counting_call(self, *args, **kwargs):
        calls.append(getattr(self.func, "__qualname__", repr(self.func)))
        return await real_call(self, *args, **kwargs)

    monkeypatch.setattr(SyncToAsync, "__call__", counting_call)
    return calls


@pytest.fixture
def request_signals():
    seen = []

    def started(**kwargs):
        seen.append("started")

    def finished(**kwargs):
        seen.append("finished")

    signals.request_started.connect(started)
    signals.request_finished.connect(finished)
    yield seen
    signals.request_started.disconnect(started)
    signals.request_finished.disconnect(finished)


@pytest.mark.django_db(transaction=True)
def test_a_request_enters_a_worker_thread_once(thread_calls, request_signals):
    status, _, body = async_to_sync(_request)("GET", "/healthz")

    assert status == 200
    assert b"ok" in body
    # Stock Django: request_started, the middleware chain, the view, response.close: 4 hops or more.
    assert thread_calls == ["SyncASGIHandler._respond"]
    assert request_signals == ["started", "finished"]


@pytest.mark.django_db(transaction=True)
def test_an_api_write_with_a_body_goes_through(thread_calls):
    from accounts.services import token_issue
    from testing.factories import UserFactory

    token = token_issue(user=UserFactory())
    headers = [(b"authorization", f"Token {token.key}".encode()), (b"content-type", b"application/json")]
    status, _, body = async_to_sync(_request)("PATCH", "/api/v1/me/", b'{"display_name": "Over ASGI"}', headers)

    assert status == 200, body
    assert b"Over ASGI" in body
    assert len(thread_calls) == 1


@pytest.mark.django_db(transaction=True)
# Django warns that it reads a file response's sync iterator in a thread under ASGI, as it always does.
@pytest.mark.filterwarnings("ignore:StreamingHttpResponse must consume synchronous iterators")
def test_a_streaming_response_is_sent_whole_then_closed(settings, tmp_path, request_signals):
    settings.MEDIA_ROOT = tmp_path
    payload = bytes(range(256)) * 4096  # 1 MiB: several chunks
    (tmp_path / "clip.bin").write_bytes(payload)

    status, _, body = async_to_sync(_request)("GET", "/media/clip.bin")

    assert status == 200
    assert body == payload
    # request_finished comes from closing the response, after its body went out.
    assert request_signals == ["started", "finished"]


@pytest.mark.django_db(transaction=True)
def test_a_body_over_the_limit_is_a_413_in_the_error_shape(settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    body = b'{"display_name": "' + b"x" * 4096 + b'"}'
    headers = [(b"content-type", b"application/json")]

    status, _, content = async_to_sync(_request)("POST", "/api/v1/auth/register/", body, headers)

    assert status == 413, content
    assert b"payload_too_large" in content


def test_the_server_process_tunes_garbage_collection(settings):
    import gc
    import importlib

    import csn.asgi

    before = gc.get_threshold()
    try:
        gc.set_threshold(700, 10, 10)
        importlib.reload(csn.asgi)
        assert gc.get_threshold() == (settings.SERVER_GC_THRESHOLD, 10, 10)
        assert gc.get_freeze_count() > 0  # start-up objects are left out of later collections
    finally:
        gc.set_threshold(*before)
        gc.unfreeze()


async def _first_reply(path: str, messages, headers) -> tuple[int, bytes]:
    """Send `messages` (body chunks, the last with more_body still set) and return the response the
    handler gives without waiting for the rest of the body."""
    communicator = ApplicationCommunicator(SyncASGIHandler(), _scope("POST", path, headers))
    for chunk in messages:
        await communicator.send_input({"type": "http.request", "body": chunk, "more_body": True})
    start = await communicator.receive_output(5)
    body = await communicator.receive_output(5)
    await communicator.wait(5)
    return start["status"], body["body"]


@pytest.mark.django_db(transaction=True)
def test_a_declared_length_over_the_limit_is_refused_before_the_body_is_read(settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    headers = [(b"content-type", b"application/json"), (b"content-length", b"1000000000")]

    status, body = async_to_sync(_first_reply)("/api/v1/auth/register/", [b"{"], headers)

    assert status == 413
    assert json.loads(body)["error"]["code"] == "payload_too_large"


@pytest.mark.django_db(transaction=True)
def test_a_chunked_body_is_refused_once_it_passes_the_limit(settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    chunks = [b"x" * 600, b"x" * 600]  # no Content-Length; the second chunk passes 1 KiB

    status, body = async_to_sync(_first_reply)("/api/v1/auth/register/", chunks, [(b"content-type", b"text/plain")])

    assert status == 413
    assert json.loads(body)["error"]["code"] == "payload_too_large"


@pytest.mark.django_db(transaction=True)
def test_a_bad_content_length_is_a_400():
    status, _, content = async_to_sync(_request)("POST", "/api/v1/auth/register/", b"", [(b"content-length", b"x")])

    assert status == 400
    assert json.loads(content)["error"]["code"] == "bad_request"


def test_upload_limits_by_path_and_type(settings):
    from csn.asgi_http import request_body_limit

    settings.DATA_UPLOAD_MAX_MEMORY_SIZE, settings.HTTP_MAX_FORM_UPLOAD_BYTES = 1000, 5000
    settings.CSN_MEDIA_MAX_UPLOAD_BYTES = 10**9
    form = "multipart/form-data; boundary=x"
    assert request_body_limit("/api/v1/me/", "application/json") == 1000
    assert request_body_limit("/admin/content/content/add/", "application/x-www-form-urlencoded") == 1000
    assert request_body_limit("/admin/content/content/3/change/", form) == 5000  # a thumbnail
    assert request_body_limit("/admin/content/mediaasset/add/", form) == 10**9 + 1000
    assert request_body_limit("/api/v1/media/12/upload/", form) == 10**9 + 1000
    assert request_body_limit("/api/v1/media/12/upload/", "application/json") == 1000


@pytest.mark.django_db(transaction=True)
def test_a_media_upload_through_the_handler_is_not_refused_by_the_json_limit(settings, editor, tmp_path):
    """The admin's upload form posts a file larger than the JSON limit: it reaches the admin."""
    from django.test import Client

    settings.MEDIA_ROOT = tmp_path
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    client = Client()
    client.force_login(editor)
    cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}".encode()
    body = (
        b'--x\r\nContent-Disposition: form-data; name="file"; filename="clip.mp4"\r\nContent-Type: video/mp4\r\n\r\n'
        + b"\0" * 8192
        + b'\r\n--x\r\nContent-Disposition: form-data; name="tags"\r\n\r\n\r\n--x--\r\n'
    )
    headers = [(b"content-type", b"multipart/form-data; boundary=x"), (b"cookie", cookie)]

    status, _, content = async_to_sync(_request)("POST", "/admin/content/mediaasset/add/", body, headers)

    assert status == 403 and b"CSRF" in content  # the admin's own answer (no CSRF token here), not a 413


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_daphne_refuses_a_large_body_before_receiving_it():
    """Under daphne the body never reaches the application (daphne would queue all of it in memory):
    the 413 comes as soon as the headers are in, and a chunked body is cut off past the limit."""
    import socket
    import time

    from streaming.tests.servers import daphne_on_test_db

    def exchange(base: str, head: bytes, chunks=()) -> tuple[bytes, float]:
        host, port = base.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=10) as sock:
            started = time.monotonic()
            sock.sendall(head)
            try:
                for chunk in chunks:
                    sock.sendall(chunk)
            except OSError:
                pass  # the server closed the connection once past the limit
            reply = b""
            while b"\r\n\r\n" not in reply or not reply.rstrip().endswith(b"}"):
                data = sock.recv(65536)
                if not data:
                    break
                reply += data
            return reply, time.monotonic() - started

    with daphne_on_test_db() as (base,):
        declared = (
            b"POST /api/v1/auth/register/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"Content-Length: 1000000000\r\n\r\n"
        )
        reply, took = exchange(base, declared)
        assert reply.startswith(b"HTTP/1.1 413"), reply[:200]
        assert b'"payload_too_large"' in reply and took < 5

        chunked = (
            b"POST /api/v1/auth/register/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n"
        )
        piece = b"10000\r\n" + b"x" * 0x10000 + b"\r\n"  # 64 KiB chunks: 17 of them pass 1 MiB
        reply, _ = exchange(base, chunked, [piece] * 40)
        assert reply.startswith(b"HTTP/1.1 413"), reply[:200]

        # twisted would parse a form body itself (all of it in memory) and answer a malformed one with
        # an empty 400 of its own: the body goes to Django untouched, and its answer is in our shape.
        form = b"--abc--\r\n"
        malformed = (
            b"POST /api/v1/auth/register/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: multipart/form-data; boundary=abc\r\nContent-Length: %d\r\n\r\n%s" % (len(form), form)
        )
        reply, _ = exchange(base, malformed)
        assert reply.startswith(b"HTTP/1.1 415") and b"Content-Type: application/problem+json" in reply, reply[:300]
        assert b'"code":"unsupported_media_type"' in reply, reply[:300]


async def _request_to(handler, method: str, path: str) -> tuple[int, dict, bytes]:
    communicator = ApplicationCommunicator(handler, _scope(method, path))
    await communicator.send_input({"type": "http.request", "body": b"", "more_body": False})
    start = await communicator.receive_output(5)
    body = await communicator.receive_output(5)
    await communicator.wait(5)
    return start["status"], dict(start["headers"]), body["body"]


@pytest.mark.django_db(transaction=True)
def test_past_the_backlog_bound_a_request_is_a_fast_503_and_healthz_still_answers(settings, thread_calls):
    import time

    settings.HTTP_MAX_IN_FLIGHT, settings.HTTP_RETRY_AFTER_SECONDS = 3, 2
    handler = SyncASGIHandler()
    held = [handler.backlog.arrive() for _ in range(3)]  # three requests in flight

    started = time.monotonic()
    status, headers, body = async_to_sync(_request_to)(handler, "GET", "/api/v1/teams/")
    assert time.monotonic() - started < 0.05
    assert status == 503 and headers[b"Retry-After"] == b"2"
    assert json.loads(body)["code"] == "overloaded"
    assert thread_calls == []  # refused on the event loop: no worker thread, no view

    assert async_to_sync(_request_to)(handler, "GET", "/healthz")[0] == 200
    for entry in held:
        handler.backlog.leave(entry)
    assert async_to_sync(_request_to)(handler, "GET", "/api/v1/teams/")[0] == 200
    assert not handler.backlog.waiting and handler.backlog.in_flight == 0  # a served request leaves it


def test_the_backlog_is_full_when_its_oldest_waits_too_long_and_forgets_what_left_or_started(settings):
    from csn.asgi_http import Backlog

    backlog = Backlog(max_in_flight=10, max_wait_seconds=0.05)
    first, second = backlog.arrive(), backlog.arrive()
    assert backlog.refusal() is None
    first[0] -= 1.0  # the oldest has waited a second
    assert backlog.refusal() == "queue_wait"
    backlog.leave(second)  # taken out of order (a cancelled request): the oldest still waits
    assert backlog.refusal() == "queue_wait"
    backlog.started(first)  # a thread took it: in flight, no longer waiting
    assert backlog.refusal() is None and not backlog.waiting and backlog.in_flight == 1
    backlog.leave(first)
    assert backlog.in_flight == 0


def _refused(bound: str) -> float:
    from prometheus_client import REGISTRY

    return REGISTRY.get_sample_value("csn_http_refused_total", {"bound": bound}) or 0.0


@pytest.mark.django_db(transaction=True)
def test_a_refusal_is_in_the_error_shape_and_counted_by_its_bound(settings):
    settings.HTTP_MAX_IN_FLIGHT = 1
    handler = SyncASGIHandler()
    held = handler.backlog.arrive()
    before = _refused("in_flight")

    status, headers, body = async_to_sync(_request_to)(handler, "GET", "/api/v1/teams/")

    assert status == 503 and headers[b"Retry-After"] == b"1"
    assert headers[b"Content-Type"] == b"application/problem+json"
    problem = json.loads(body)
    assert problem["code"] == problem["error"]["code"] == "overloaded" and problem["status"] == 503
    assert problem["type"].endswith("/overloaded")
    assert _refused("in_flight") == before + 1
    handler.backlog.leave(held)


def test_the_predicted_bound_follows_the_cpu_per_request():
    from csn.asgi_http import Backlog

    backlog = Backlog(max_in_flight=100, max_wait_seconds=10, max_predicted_seconds=0.05)
    for _ in range(100):
        backlog.served(0.010)  # requests of 10 ms of CPU: a newcomer behind 4 is answered in ~50 ms
    assert backlog.cpu_per_request == pytest.approx(0.010, rel=0.01)
    entries = [backlog.arrive() for _ in range(3)]
    assert backlog.refusal() is None  # (3 + 1) x 10 ms
    entries += [backlog.arrive() for _ in range(2)]
    assert backlog.refusal() == "predicted"  # (5 + 1) x 10 ms > 50 ms

    for _ in range(100):
        backlog.served(0.002)  # cheaper requests: more may be in flight
    assert backlog.refusal() is None
    entries += [backlog.arrive() for _ in range(20)]
    assert backlog.refusal() == "predicted"  # 26 x 2 ms
    for entry in entries:
        backlog.leave(entry)

    # One slow request counts as at most the bound: it moves the mean, and a lone request is never refused.
    slow = Backlog(max_in_flight=100, max_wait_seconds=10, max_predicted_seconds=0.05)
    slow.served(30.0)
    assert slow.cpu_per_request == pytest.approx(0.1 * 0.05)
    for _ in range(200):
        slow.served(30.0)
    assert slow.refusal() is None
    assert Backlog(100, 10, 0.0).refusal() is None  # 0: no bound by prediction


@pytest.mark.django_db(transaction=True)
def test_a_served_request_feeds_the_cpu_per_request():
    handler = SyncASGIHandler()
    assert handler.backlog.cpu_per_request == 0

    assert async_to_sync(_request_to)(handler, "GET", "/api/v1/teams/")[0] == 200

    assert handler.backlog.cpu_per_request > 0


class _Channel:
    """What a twisted request needs of its HTTP channel, writing into `written` (twisted's own
    DummyChannel would install a reactor in the test process)."""

    def __init__(self):
        from twisted.internet.address import IPv4Address

        self.written = bytearray()
        self.transport = self
        self.address = IPv4Address("TCP", "127.0.0.1", 1234)

    def getPeer(self):
        return self.address

    def getHost(self):
        return self.address

    def isSecure(self):
        return False

    def write(self, data):
        self.written += data

    def writeSequence(self, data):
        for part in data:
            self.write(part)

    def writeHeaders(self, version, code, reason, headers):
        lines = [version + b" " + code + b" " + reason]
        lines += [name + b": " + value for name, values in headers.getAllRawHeaders() for value in values]
        self.write(b"\r\n".join(lines) + b"\r\n\r\n")

    def requestDone(self, request):
        pass

    def registerProducer(self, producer, streaming):
        pass

    def unregisterProducer(self):
        pass

    def loseConnection(self):
        pass


def _daphne_request(path: bytes, backlog, headers=()):
    """A request through the daphne request class csn.asgi_http installs, on a dummy channel; returns
    (what was written to the connection, whether daphne went on to an application instance or a websocket)."""
    from types import SimpleNamespace

    import daphne.http_protocol

    from csn.asgi_http import _daphne_request as daphne_request_class

    handed = []  # an application instance made, or a websocket protocol

    def websocket(address):
        handed.append("websocket")
        raise ConnectionAbortedError  # the test stops here (daphne answers a 500 of its own)

    server = SimpleNamespace(
        protocol_connected=lambda request: None,
        protocol_disconnected=lambda request: None,
        create_application=lambda request, scope: handed.append(scope),
        ws_factory=SimpleNamespace(buildProtocol=websocket),
        log_action=lambda *args: None,
        proxy_forwarded_address_header=None,
        root_path="",
        server_name="daphne",
        request_buffer_size=8192,
    )
    channel = _Channel()
    channel.factory = SimpleNamespace(server=server, log=lambda request: None)
    request_class = daphne_request_class(daphne.http_protocol.WebRequest)
    request_class.backlog = backlog
    request = request_class(channel)
    for name, value in headers:
        request.requestHeaders.addRawHeader(name, value)
    request.gotLength(0)
    request.requestReceived(b"GET", path, b"HTTP/1.1")
    return bytes(channel.written), bool(handed)


def test_under_daphne_the_reactor_refuses_before_any_application_instance(settings):
    from csn.asgi_http import Backlog

    settings.HTTP_RETRY_AFTER_SECONDS = 3
    full, empty = Backlog(max_in_flight=0, max_wait_seconds=1), Backlog(max_in_flight=10, max_wait_seconds=1)
    before = _refused("in_flight")

    written, application = _daphne_request(b"/api/v1/teams/?page=2", full, [(b"accept", b"application/json")])

    assert not application
    head, _, body = written.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 503 ")
    assert b"Retry-After: 3" in head and b"Content-Type: application/json" in head
    assert b"Content-Length: %d" % len(body) in head and b"Connection: close" not in head  # kept alive
    assert json.loads(body)["code"] == "overloaded"
    assert _refused("in_flight") == before + 1

    assert _daphne_request(b"/healthz", full) == (b"", True)  # never refused: on to the application
    assert _daphne_request(b"/metrics", full) == (b"", True)
    assert _daphne_request(b"/api/v1/teams/", empty) == (b"", True)
    upgrade = [(b"upgrade", b"websocket"), (b"connection", b"upgrade")]
    assert _daphne_request(b"/ws/", full, upgrade)[1]  # a websocket handshake: the gateway's own limits


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_daphne_refuses_from_the_reactor_and_keeps_the_connection():
    import socket

    from streaming.tests.servers import daphne_on_test_db

    def ask(sock, path: str) -> bytes:
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
        reply = b""
        while b"\r\n\r\n" not in reply:
            reply += sock.recv(65536)
        head, _, body = reply.partition(b"\r\n\r\n")
        length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
        while len(body) < length:
            body += sock.recv(65536)
        return head + b"\r\n\r\n" + body

    with daphne_on_test_db(env={"CSN_HTTP_MAX_IN_FLIGHT": "0"}) as (base,):  # every request past the bound
        host, port = base.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=10) as sock:
            for _ in range(2):  # the same connection, kept
                reply = ask(sock, "/api/v1/teams/")
                assert reply.startswith(b"HTTP/1.1 503") and b"Retry-After: 1" in reply, reply[:300]
                assert b'"code": "overloaded"' in reply
                assert b"server: daphne" not in reply.lower()  # written by the reactor, not by daphne for an app
            assert ask(sock, "/healthz").startswith(b"HTTP/1.1 200")


def test_the_server_process_sets_its_switch_interval():
    """In a process of its own: csn.serve imports daphne, which installs its reactor on import."""
    import os
    import subprocess
    import sys

    code = "import csn.serve, sys; csn.serve.tune_switch_interval(); print(sys.getswitchinterval())"
    env = {**os.environ, "CSN_SWITCH_INTERVAL_US": "700"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout

    assert float(out) == pytest.approx(0.0007)
