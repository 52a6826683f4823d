"""Django's HTTP side under daphne, entering a worker thread once a request.

Every view and middleware of the project is synchronous. Django's stock ASGIHandler still runs the
request in async mode: `request_started` in one thread hop, the middleware chain in another, the
view in a third (from the loop again), `response.close()` in a fourth, with a new thread made per
request (ThreadSensitiveContext) and a disconnect-listener task that cannot cancel a sync view
anyway. Measured by `python -m bench viewing`, that hopping is most of the 2.6 ms of CPU a bare
`/healthz` cost. This handler is WSGI's shape on ASGI: the body is read on the event loop, then one
call in a worker thread does what Django's WSGIHandler does (signals, middleware, view, and for an
in-memory response its close), and the response goes out from the loop. A streaming response is
closed after its body is sent, as Django does.

The worker threads are a fixed pool (`CSN_HTTP_THREADS`): database connections are thread-local and
come from the connection pool for each request, and a request never needs the event loop's thread.
"""

from concurrent.futures import ThreadPoolExecutor

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core import signals
from django.core.exceptions import RequestAborted
from django.core.handlers.asgi import ASGIHandler, get_script_prefix
from django.core.handlers.base import BaseHandler
from django.http import FileResponse
from django.urls import set_script_prefix


class SyncASGIHandler(ASGIHandler):
    def __init__(self):
        BaseHandler.__init__(self)
        self.load_middleware(is_async=False)
        self.executor = ThreadPoolExecutor(max_workers=settings.HTTP_THREADS, thread_name_prefix="http")
        self._respond_in_thread = sync_to_async(self._respond, thread_sensitive=False, executor=self.executor)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            raise ValueError(f"Django serves HTTP only, not {scope['type']}.")
        try:
            body_file = await self.read_body(receive)
        except RequestAborted:
            return
        try:
            response = await self._respond_in_thread(scope, body_file)
            try:
                await self.send_response(response, send)
            finally:
                if response.streaming:
                    await sync_to_async(response.close, thread_sensitive=False, executor=self.executor)()
        finally:
            body_file.close()

    def _respond(self, scope, body_file):
        """The whole request in one worker thread, as WSGIHandler.__call__ does it."""
        set_script_prefix(get_script_prefix(scope))
        signals.request_started.send(sender=self.__class__, scope=scope)
        request, response = self.create_request(scope, body_file)
        if request is not None:
            response = self.get_response(request)
            response._handler_class = self.__class__
        if isinstance(response, FileResponse):
            response.block_size = self.chunk_size  # the server chunks; read the file in big blocks
        if not response.streaming:
            response.close()  # request_finished: connections go back to the pool before the send
        return response
