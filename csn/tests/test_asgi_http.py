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
    assert not backlog.full()
    first[0] -= 1.0  # the oldest has waited a second
    assert backlog.full()
    backlog.leave(second)  # taken out of order (a cancelled request): the oldest still waits
    assert backlog.full()
    backlog.started(first)  # a thread took it: in flight, no longer waiting
    assert not backlog.full() and not backlog.waiting and backlog.in_flight == 1
    backlog.leave(first)
    assert backlog.in_flight == 0
