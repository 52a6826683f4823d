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

Overload is answered, not queued: a request that arrives while the process's backlog is past a bound
is a 503 `overloaded` with `Retry-After` in the API's error shape, at once, so a load balancer or the
app goes elsewhere or comes back later, and the requests already accepted keep their latency. The
worker threads share one core through the GIL: ten CPU-bound requests at once each take ten times as
long, so what a newcomer's latency grows with is the CPU of the requests in flight. Three bounds
(`Backlog.refusal`, each refusal counted in `csn_http_refused_total` by its bound):
- `predicted`: `(in_flight + 1) x cpu_per_request` past `HTTP_MAX_PREDICTED_MS`, where
  `cpu_per_request` follows the CPU recent requests took in their thread (`time.thread_time`, an
  exponentially weighted mean). It adapts: cheap requests (or ones waiting on the database, which does
  not hold the GIL) let more in, expensive ones fewer;
- `in_flight`: `HTTP_MAX_IN_FLIGHT` requests accepted and not yet answered, a hard ceiling;
- `queue_wait`: the oldest request waiting for a thread has waited `HTTP_MAX_QUEUE_WAIT_MS` (threads
  held by slow I/O).
`/healthz` and `/metrics` are never refused (they still wait their turn for a thread: "the process
answers", and the scrape sees the overload); a websocket handshake has the gateway's own limits.

Under daphne the refusal is made in the reactor (`OverloadRefusingRequest.process`, installed into
daphne with the body limit below), as soon as the request is in: no scope, application instance, task
or Django response is made, and the connection is kept. A refusal costs the event loop's thread about
half the CPU it did through the application, and that thread is what answers it: when it wakes it waits
for the GIL behind the busy worker threads (up to a switch interval each time, more behind several),
so the server process shortens Python's switch interval (`csn.serve`, `CSN_SWITCH_INTERVAL_US`) and
the predicted bound keeps few CPU-bound threads running. The check in `__call__` is the same bound for
other servers.

Bodies are bounded before they are held: `request_body_limit` says how large a request's body may be
(1 MiB of JSON or form, more for a multipart upload), and a larger one is a 413 in the API's error shape
without being read. daphne (twisted) receives a whole body before it calls the application, then queues
all of it in memory at once: `BodyLimitedRequest`, installed into daphne when the handler is built,
refuses it there, by `Content-Length` as soon as the headers are in, and a chunked body as soon as it
passes the limit, before it is stored.
"""

import functools
import io
import json
import re
import sys
import threading
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import unquote

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core import signals
from django.core.exceptions import RequestAborted
from django.core.handlers.asgi import ASGIHandler, get_script_prefix
from django.core.handlers.base import BaseHandler
from django.http import FileResponse
from django.urls import set_script_prefix

from csn import metrics
from csn.api.errors import PROBLEM_JSON, problem_body, problem_content_type, problem_response
from csn.realtime import drain

TOO_LARGE = problem_body("payload_too_large", "The request body is too large.", status=413)
OVERLOADED = "The server is busy: retry in a moment, or elsewhere."
NEVER_REFUSED = frozenset({"/healthz", "/metrics"})  # liveness; the scrape that shows the overload


class Backlog:
    """The requests in flight (counted on the event loop, from arrival to the end of their response) and
    those of them waiting for a worker thread, oldest first: entries `[arrival, taken]`, marked taken when
    a worker thread starts the request, or when it ends some other way (cancelled while waiting).

    `cpu_per_request` follows the CPU recent requests took in their worker thread (an exponentially
    weighted mean, each sample capped at `max_predicted`: one slow report cannot close the process): the
    threads share one core, so a newcomer is predicted to be answered once the CPU of everything in flight
    and its own is spent, `(in_flight + 1) * cpu_per_request`."""

    WEIGHT = 0.1  # of the newest sample in the mean: it follows a change of load within ~20 requests

    def __init__(self, max_in_flight: int, max_wait_seconds: float, max_predicted_seconds: float = 0.0):
        self.max_in_flight, self.max_wait = max_in_flight, max_wait_seconds
        self.max_predicted = max_predicted_seconds  # 0: no bound by prediction
        self.in_flight = 0
        self.cpu_per_request = 0.0
        self.waiting: deque[list] = deque()
        self.lock = threading.Lock()

    def refusal(self) -> str | None:
        """The bound a newcomer would pass now (`in_flight`, `predicted`, `queue_wait`), or None."""
        if self.in_flight >= self.max_in_flight:
            return "in_flight"
        if self.max_predicted and (self.in_flight + 1) * self.cpu_per_request > self.max_predicted:
            return "predicted"
        with self.lock:
            if self.waiting and time.monotonic() - self.waiting[0][0] > self.max_wait:
                return "queue_wait"
        return None

    def served(self, cpu_seconds: float) -> None:
        """A request took `cpu_seconds` in its worker thread (called from it, without a lock: two threads
        updating at once can only lose one sample of an estimate)."""
        if self.max_predicted:
            cpu_seconds = min(cpu_seconds, self.max_predicted)
        self.cpu_per_request += self.WEIGHT * (cpu_seconds - self.cpu_per_request)

    def arrive(self) -> list:
        entry = [time.monotonic(), False]
        self.in_flight += 1
        with self.lock:
            self.waiting.append(entry)
        return entry

    def started(self, entry: list) -> None:
        with self.lock:
            entry[1] = True
            while self.waiting and self.waiting[0][1]:
                self.waiting.popleft()

    def leave(self, entry: list) -> None:
        self.started(entry)
        self.in_flight -= 1


class BodyTooLarge(Exception):
    pass


def request_body_limit(path: str, content_type: str) -> int | None:
    """The most bytes a request's body may have: DATA_UPLOAD_MAX_MEMORY_SIZE, as Django counts a JSON or
    form body; a multipart form (admin images) HTTP_MAX_FORM_UPLOAD_BYTES; a multipart post to one of
    HTTP_UPLOAD_PATHS (media uploads) the media size limit and a form's worth more."""
    if not content_type.lower().lstrip().startswith("multipart/form-data"):
        return settings.DATA_UPLOAD_MAX_MEMORY_SIZE  # None: no limit, as for Django
    if any(re.fullmatch(pattern, path) for pattern in settings.HTTP_UPLOAD_PATHS):
        return settings.CSN_MEDIA_MAX_UPLOAD_BYTES + settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return settings.HTTP_MAX_FORM_UPLOAD_BYTES


def over_limit(size: int | None, limit: int | None) -> bool:
    return size is not None and limit is not None and size > limit


def declared_length(value: bytes | str | None) -> int | None:
    """A Content-Length value as a number; None when absent; -1 when it is not one."""
    if value is None:
        return None
    value = value.decode("latin-1") if isinstance(value, bytes) else value
    return int(value) if value.strip().isdigit() else -1


class SyncASGIHandler(ASGIHandler):
    def __init__(self):
        BaseHandler.__init__(self)
        self.load_middleware(is_async=False)
        self.executor = ThreadPoolExecutor(max_workers=settings.HTTP_THREADS, thread_name_prefix="http")
        self.backlog = Backlog(
            settings.HTTP_MAX_IN_FLIGHT, settings.HTTP_MAX_QUEUE_WAIT_MS / 1000, settings.HTTP_MAX_PREDICTED_MS / 1000
        )
        self._respond_in_thread = sync_to_async(self._respond, thread_sensitive=False, executor=self.executor)
        install_daphne_request(self.backlog)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            raise ValueError(f"Django serves HTTP only, not {scope['type']}.")
        headers = dict(scope.get("headers") or [])
        # Under daphne the reactor refused it already (OverloadRefusingRequest); here for other servers.
        if scope["path"] not in NEVER_REFUSED and (bound := self.backlog.refusal()):
            metrics.http_refused.labels(bound).inc()
            return await self.send_response(self.overloaded(headers.get(b"accept", b"").decode("latin-1")), send)
        limit = request_body_limit(scope["path"], headers.get(b"content-type", b"").decode("latin-1"))
        length = declared_length(headers.get(b"content-length"))
        accept = headers.get(b"accept", b"").decode("latin-1")
        if length == -1:
            return await self.send_response(
                problem_response("bad_request", "Bad Content-Length.", status=400, accept=accept), send
            )
        try:
            if over_limit(length, limit):
                raise BodyTooLarge
            body_file = await self.read_body(receive, limit)
        except RequestAborted:
            return
        except BodyTooLarge:
            too_large = problem_response("payload_too_large", TOO_LARGE["detail"], status=413, accept=accept)
            return await self.send_response(too_large, send)
        waiting = self.backlog.arrive()
        try:
            response = await self._respond_in_thread(scope, body_file, waiting)
            try:
                await self.send_response(response, send)
            finally:
                if response.streaming:
                    await sync_to_async(response.close, thread_sensitive=False, executor=self.executor)()
        finally:
            self.backlog.leave(waiting)
            body_file.close()

    async def send_response(self, response, send):
        if drain.draining:  # leaving (SIGTERM): the proxy should not reuse this connection
            response["Connection"] = "close"
        return await super().send_response(response, send)

    async def read_body(self, receive, limit: int | None = None):
        """Django's read_body, stopping as soon as the body passes `limit` bytes (a chunked one)."""
        if limit is None:
            return await super().read_body(receive)
        size = 0

        async def counted():
            nonlocal size
            message = await receive()
            size += len(message.get("body", b""))
            if over_limit(size, limit):
                raise BodyTooLarge
            return message

        return await super().read_body(counted)

    @staticmethod
    def overloaded(accept: str = ""):
        retry_after = str(settings.HTTP_RETRY_AFTER_SECONDS)
        return problem_response(
            "overloaded", OVERLOADED, status=503, accept=accept, headers={"Retry-After": retry_after}
        )

    def _respond(self, scope, body_file, waiting: list | None = None):
        """The whole request in one worker thread, as WSGIHandler.__call__ does it."""
        if waiting is not None:
            self.backlog.started(waiting)
        cpu_started = time.thread_time()
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
        if waiting is not None:
            self.backlog.served(time.thread_time() - cpu_started)
        return response


def install_daphne_request(backlog: Backlog | None = None) -> None:
    """Make daphne's HTTP requests OverloadRefusingRequest, refusing by `backlog` (the handler's) and
    bounding bodies (daphne takes no request class as an option; its factory reads the module's
    WebRequest). Only where daphne is already imported: the server."""
    module = sys.modules.get("daphne.http_protocol")
    if module is None:
        return
    if not getattr(module.WebRequest, "body_limited", False):
        module.WebRequest = _daphne_request(module.WebRequest)
    module.WebRequest.backlog = backlog


@functools.cache
def overloaded_body() -> bytes:
    return json.dumps(problem_body("overloaded", OVERLOADED, status=503)).encode()


def _daphne_request(web_request):
    class OverloadRefusingRequest(_body_limited(web_request)):
        """daphne's request, answering 503 `overloaded` from the reactor once the request is in, when the
        backlog is past a bound: no scope, no application instance, no task, no Django response. The
        connection is kept (a keep-alive client asks again on it)."""

        backlog = None

        def process(self):
            if self.body_refused or self.refused_as_overload():
                return None
            return super().process()

        def refused_as_overload(self) -> bool:
            if self.backlog is None or self.requestHeaders.hasHeader(b"upgrade"):  # a websocket: its own limits
                return False
            path = self.path.split(b"?", 1)[0].decode("latin-1")
            if unquote(path) in NEVER_REFUSED:
                return False
            bound = self.backlog.refusal()
            if bound is None:
                return False
            metrics.http_refused.labels(bound).inc()
            accept = b",".join(self.requestHeaders.getRawHeaders(b"accept") or []).decode("latin-1")
            body = overloaded_body()
            self.setResponseCode(503)
            self.setHeader(b"Content-Type", problem_content_type(accept).encode())
            self.setHeader(b"Content-Length", b"%d" % len(body))
            self.setHeader(b"Retry-After", str(settings.HTTP_RETRY_AFTER_SECONDS).encode())
            if drain.draining:
                self.setHeader(b"Connection", b"close")
            self.write(body)
            self.finish()
            return True

    return OverloadRefusingRequest


def _body_limited(web_request):
    class BodyLimitedRequest(web_request):
        """daphne's request, refusing a body over request_body_limit before it is stored: by its
        Content-Length when the headers are in, or once a chunked body passes the limit. The 413 is
        written at once and the connection closed; the rest of the body is dropped unread."""

        body_limited = True
        body_refused = False
        body_size = 0
        body_limit = None

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            # twisted parses a POSTed form body itself (read whole into memory; an empty 400 of its own
            # when malformed) for `request.args`, which daphne never reads: Django parses it, once.
            self._parsePOSTFormSubmission = False

        def gotLength(self, length):
            # The request line is still the channel's (the request gets it once the body is in).
            path = (getattr(self.channel, "_path", None) or b"/").split(b"?", 1)[0].decode("latin-1")
            content_type = (self.requestHeaders.getRawHeaders(b"content-type") or [b""])[0].decode("latin-1")
            self.body_limit = request_body_limit(path, content_type)
            super().gotLength(0 if over_limit(length, self.body_limit) else length)
            if over_limit(length, self.body_limit):
                self.refuse_body()

        def handleContentChunk(self, data):
            if self.body_refused:
                return
            self.body_size += len(data)
            if over_limit(self.body_size, self.body_limit):
                self.refuse_body()
                return
            super().handleContentChunk(data)

        def process(self):
            if not self.body_refused:
                return super().process()

        def refuse_body(self):
            self.body_refused = True
            if self.content is not None:
                self.content.close()
            self.content = io.BytesIO()  # twisted still rewinds it if the rest arrives
            body = json.dumps(TOO_LARGE).encode()
            self.channel.transport.write(
                b"HTTP/1.1 413 Payload Too Large\r\nContent-Type: %s\r\n"
                b"Content-Length: %d\r\nConnection: close\r\n\r\n%s" % (PROBLEM_JSON.encode(), len(body), body)
            )
            self.channel.transport.loseConnection()

    return BodyLimitedRequest
