"""Django's HTTP side under ASGI (csn.asgi_http): one worker-thread call a request, nothing lost."""

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
    from rest_framework.authtoken.models import Token

    from testing.factories import UserFactory

    token = Token.objects.create(user=UserFactory())
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
