"""Under ASGI a request enters the synchronous middleware chain once, not once per middleware."""

import pytest
from asgiref.sync import SyncToAsync, async_to_sync
from asgiref.testing import ApplicationCommunicator
from django.core.asgi import get_asgi_application


async def _get(path: str) -> int:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver")],
        "client": ("127.0.0.1", 1234),
        "server": ("testserver", 80),
    }
    communicator = ApplicationCommunicator(get_asgi_application(), scope)
    await communicator.send_input({"type": "http.request", "body": b"", "more_body": False})
    start = await communicator.receive_output(5)
    await communicator.receive_output(5)
    await communicator.wait(5)
    return start["status"]


@pytest.mark.django_db(transaction=True)
def test_a_request_enters_worker_threads_a_few_times_not_per_middleware(monkeypatch):
    hops = []
    real_call = SyncToAsync.__call__

    async def counting_call(self, *args, **kwargs):
        hops.append(getattr(self.func, "__qualname__", repr(self.func)))
        return await real_call(self, *args, **kwargs)

    monkeypatch.setattr(SyncToAsync, "__call__", counting_call)

    assert async_to_sync(_get)("/healthz") == 200
    # Entering the chain, and the request_started/finished signals around it; without
    # SyncChainMiddleware every MiddlewareMixin step is its own hop (about a dozen).
    # request_started, the chain, view middleware, the view, closing: 5. Without SyncChainMiddleware
    # every process_request/process_response of every middleware is a hop of its own (15 here).
    assert len(hops) <= 5, hops
