"""Cached reads: an answer kept in the server's cache per variant of its reader, with validators and
headers for shared caches (CDNs) and browsers.

A view using `CachedReadMixin` says what its answer depends on: `cache_variant(request)` (a string per
kind of reader whose answers may differ, None for a reader never cached) and its generation (a string
that changes whenever the data shown may have changed; versioned keys, so nothing is ever deleted):
`cache_generation_keys()`, the cache keys it is made of, and `cache_generation_of(values)`, the string
from their values. The answer's key is both, the scheme and host, and the path with its query string in
a fixed order. A lookup is one round trip: the generation's keys and the entry under the generation
this process saw last for them (a guess, checked against the values read with it; a generation that
moved costs a second read). A hit is the stored
bytes, with no serializer, query or rendering: after authentication, permissions and throttles, as
every request. An anonymous reader's hit is answered earlier still, by `CachedReadEarlyMiddleware`, before
sessions, CSRF, authentication, messages and DRF run (see there).

Every cacheable 200 carries a strong `ETag` (a digest of the body), and `If-None-Match` with it is a
304 without a body. `Cache-Control`: an answer to a reader without credentials is `public` with
`s-maxage` and `stale-while-revalidate` (shared caches may keep it that long; browsers revalidate,
`max-age=0`); any other is `private, no-cache` (a browser keeps it, a shared cache never). `Vary`
names `Authorization` and `Cookie`, the credentials. A cache that fails is passed by (the answer is
computed, not stored)."""

import functools
import hashlib
import logging

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.cache import cache, caches
from django.core.cache.backends import redis as django_redis
from django.http import HttpResponse, HttpResponseNotModified
from django.urls import Resolver404, ResolverMatch, resolve
from django.utils.cache import cc_delim_re, patch_cache_control, patch_vary_headers
from django.utils.http import parse_etags, urlencode
from rest_framework.response import Response

from csn.api.ratelimit import ATTRIBUTE as RATE_LIMIT_NOTE
from csn.api.ratelimit import rate_limit_headers

logger = logging.getLogger(__name__)


class CachedReadMixin:
    # Seconds a shared cache may serve the answer, and serve it stale while it refetches it.
    shared_max_age: int | None = None  # None: settings.CATALOGUE_SHARED_MAX_AGE
    stale_while_revalidate: int | None = None  # None: settings.CATALOGUE_STALE_WHILE_REVALIDATE

    # An anonymous reader's hit may be answered by CachedReadEarlyMiddleware (False: only by the view).
    served_early = True

    def cache_variant(self, request) -> str | None:
        raise NotImplementedError

    def cache_generation_keys(self) -> list[str]:
        raise NotImplementedError

    def cache_generation_of(self, values: dict) -> str:
        raise NotImplementedError

    def get(self, request, *args, **kwargs):
        self.cache_key = None
        variant = self.cache_variant(request) if settings.CATALOGUE_CACHE_SECONDS > 0 else None
        if variant is not None:
            try:
                self.cache_key, hit = self.cache_lookup(request, variant)
            except Exception:
                logger.warning("read cache unavailable: %s not cached", request.path, exc_info=True)
                self.cache_key = hit = None
            if hit is not None:
                self.cache_key = None  # nothing to store
                return self.cache_hit(request, hit)
        return self.read(request, *args, **kwargs)

    def cache_lookup(self, request, variant: str, backend=None) -> tuple[str, tuple[str, bytes] | None]:
        """The key of this request's answer for `variant`, and the stored (etag, body) if any. `backend`:
        this thread's default cache, when the caller has it (each `cache.` goes through a proxy)."""
        keys = self.cache_generation_keys()
        memo = tuple(keys)
        guess = _last_generation.get(memo)
        guessed = None if guess is None else _key(guess, variant, request)
        backend = caches["default"] if backend is None else backend
        values = _get_many(backend, memo, guessed)
        generation = self.cache_generation_of(values)
        if generation == guess:
            return guessed, values.get(guessed)
        _last_generation[memo] = generation
        key = _key(generation, variant, request)
        return key, backend.get(key)

    def cache_hit(self, request, hit: tuple[str, bytes]):
        etag, body = hit
        return self._validated(request, HttpResponse(body, content_type="application/json"), etag)

    def read(self, request, *args, **kwargs):
        """The answer, computed (a miss): a generic view's own GET; a plain APIView defines it instead of
        `get` (and documents it with `extend_schema_view(get=...)`)."""
        return super().get(request, *args, **kwargs)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if response.has_header("ETag") or response.status_code != 200:
            return response
        if getattr(self, "cache_key", None) is None or not isinstance(response, Response):
            patch_cache_control(response, private=True, no_cache=True)
            return response
        response.render()
        etag = f'"{hashlib.blake2b(response.content, digest_size=16).hexdigest()}"'
        try:
            cache.set(self.cache_key, (etag, response.content), timeout=settings.CATALOGUE_CACHE_SECONDS)
        except Exception:
            logger.warning("read cache unavailable: %s not stored", request.path, exc_info=True)
        return self._validated(request, response, etag)

    def _validated(self, request, response, etag: str):
        """The answer with its validator and caching headers; a 304 when the client holds it already."""
        if _matches(request.META.get("HTTP_IF_NONE_MATCH"), etag):
            response = HttpResponseNotModified()
        response["ETag"] = etag
        if (request.user and request.user.is_authenticated) or "HTTP_AUTHORIZATION" in request.META:
            control = {"private": True, "no_cache": True}
        else:
            shared = settings.CATALOGUE_SHARED_MAX_AGE if self.shared_max_age is None else self.shared_max_age
            stale = (
                settings.CATALOGUE_STALE_WHILE_REVALIDATE
                if self.stale_while_revalidate is None
                else self.stale_while_revalidate
            )
            control = {"public": True, "max_age": 0, "s_maxage": shared, "stale_while_revalidate": stale}
        if response.has_header("Cache-Control") or response.has_header("Vary"):
            patch_cache_control(response, **control)
            patch_vary_headers(response, VARY)
        else:  # a fresh response (every hit): the headers as patching them would make them, made once
            response["Cache-Control"], response["Vary"] = _caching_headers(tuple(control.items()))
        return response


VARY = ("Authorization", "Cookie")  # the credentials

# The generation last seen per set of generation keys, in this process: only a guess (see cache_lookup).
_last_generation: dict[tuple[str, ...], str] = {}


@functools.cache
def _caching_headers(control: tuple[tuple[str, object], ...]) -> tuple[str, str]:
    """Cache-Control and Vary of a response that had neither, patched with `control` and VARY."""
    response = HttpResponse()
    patch_cache_control(response, **dict(control))
    patch_vary_headers(response, VARY)
    return response["Cache-Control"], response["Vary"]


def _get_many(backend, keys: tuple[str, ...], key: str | None) -> dict:
    """`backend.get_many([*keys, key])` (`key` may be None), one round trip. On Django's Redis cache, the
    constant `keys` are made once and none is validated: Django makes and checks every key on every
    call (~20,000 instructions a key), and these are short, printable and ours."""
    client = getattr(backend, "_cache", None)
    if not isinstance(client, django_redis.RedisCacheClient):
        return backend.get_many([*keys] if key is None else [*keys, key])
    memo = (backend.key_prefix, backend.version, keys)
    made = _made_keys.get(memo)
    if made is None:
        made = _made_keys[memo] = {backend.make_and_validate_key(k): k for k in keys}
    if key is not None:
        made = {**made, backend.make_key(key): key}
    return {made[k]: value for k, value in client.get_many(list(made)).items()}


_made_keys: dict[tuple, dict[str, str]] = {}


def _key(generation: str, variant: str, request) -> str:
    # The scheme and host too: an answer's page links are absolute (DRF's cursor paginator).
    query = urlencode(sorted(request.GET.lists()), doseq=True)
    # The generation goes into the digest: a short key is cheaper to check and send.
    url = f"{generation} {request.scheme}://{request.get_host()}{request.path}?{query}"
    digest = hashlib.blake2b(url.encode(), digest_size=16).hexdigest()
    return f"read:{variant}:{digest}"


def _matches(header: str | None, etag: str) -> bool:
    if not header:
        return False
    tags = parse_etags(header)
    return "*" in tags or any(tag.removeprefix("W/") == etag for tag in tags)


class CachedReadEarlyMiddleware:
    """An anonymous reader's cache hit, answered before the rest of the chain (sessions, CSRF,
    authentication, messages, DRF): the stored bytes with the headers the view's own hit would carry.

    It sits after the request id, the metrics and SecurityMiddleware (which still run, and still add
    their headers), and answers only what the full path would answer with the same bytes: a GET of a
    `CachedReadMixin` view (`served_early`) without credentials (no `Authorization`, no session cookie),
    accepting JSON, naming no deprecated parameter, whose answer is stored for the anonymous variant. The
    host is validated (a disallowed one is the same 400) and the view's throttles count the request as
    they would (RateLimit headers included); a throttle that refuses, a miss, a cache that fails: the
    request goes down the chain as before, and the view answers it (a miss is not counted twice; a
    refused request is, past its limit already). The headers that DRF and the inner middlewares add to a
    hit (`Allow`, `X-Frame-Options`, `Content-Length`) are added here; tests hold both ways equal."""

    def __init__(self, get_response):
        self.get_response = get_response
        clickjacking = "django.middleware.clickjacking.XFrameOptionsMiddleware" in settings.MIDDLEWARE
        self.frame_options = settings.X_FRAME_OPTIONS.upper() if clickjacking else None

    def __call__(self, request):
        response = self.early(request) if request.method == "GET" else None
        return self.get_response(request) if response is None else response

    @staticmethod
    def throttle(throttle_class, backend):
        """A throttle of the view; one counting in the default cache (DRF's `cache` attribute) counts in
        this thread's backend as given, not through the cache's proxy on each call."""
        throttle = throttle_class()
        if getattr(throttle_class, "cache", None) is cache:
            throttle.cache = backend
        return throttle

    def early(self, request):
        meta = request.META
        if (
            settings.CATALOGUE_CACHE_SECONDS <= 0
            or "HTTP_AUTHORIZATION" in meta
            or settings.SESSION_COOKIE_NAME in request.COOKIES
            or getattr(request, "_force_auth_user", None) is not None  # DRF's test client, signed in by force
            or not _accepts_json(meta.get("HTTP_ACCEPT"))
            or settings.DISALLOWED_USER_AGENTS  # CommonMiddleware's check
        ):
            return None
        match = _route(request.path_info)
        view_class = None if match is None else getattr(match.func, "cls", None)
        if view_class is None or not issubclass(view_class, CachedReadMixin) or not view_class.served_early:
            return None
        view = view_class(**getattr(match.func, "initkwargs", {}))
        view.setup(request, *match.args, **match.kwargs)  # as dispatch would (HEAD from GET: `Allow`)
        if any(name in request.GET for name in getattr(view, "deprecated_parameters", ())):
            return None  # the view adds the deprecation headers
        request.user = AnonymousUser()  # AuthenticationMiddleware sets its own when the request goes on
        variant = view.cache_variant(request)
        if variant is None:
            return None
        backend = caches["default"]  # this thread's, looked up once for the lookup and the throttles
        try:
            _, hit = view.cache_lookup(request, variant, backend=backend)
            if hit is None or not all(
                self.throttle(t, backend).allow_request(request, view) for t in view.throttle_classes
            ):
                return None
        except Exception:  # the view logs it
            return None
        request.resolver_match = match  # the metrics' route label
        response = view.cache_hit(request, hit)
        headers = _view_headers(view)
        if vary := headers.get("Vary"):
            patch_vary_headers(response, cc_delim_re.split(vary))
        for name, value in headers.items():
            if name != "Vary":
                response[name] = value
        if self.frame_options is not None:
            response.headers.setdefault("X-Frame-Options", self.frame_options)
        if note := getattr(request, RATE_LIMIT_NOTE, None):
            for name, value in rate_limit_headers(note).items():
                response.headers.setdefault(name, value)
        response.headers.setdefault("Content-Length", str(len(response.content)))
        return response


@functools.cache
def _class_headers(view_class, allowed: tuple[str, ...], several_renderers: bool) -> dict[str, str]:
    return {"Allow": ", ".join(allowed), **({"Vary": "Accept"} if several_renderers else {})}


def _view_headers(view) -> dict[str, str]:
    """DRF's `default_response_headers` of the view (`Allow`, and `Vary: Accept` with several renderers),
    made once per view class."""
    return _class_headers(type(view), tuple(view.allowed_methods), len(view.renderer_classes) > 1)


# path → its URL match (None: no route), as `resolve` finds it; kept per process, at most ROUTES_KEPT.
_routes: dict[tuple[str, str], ResolverMatch | None] = {}
ROUTES_KEPT = 4096


def _route(path: str) -> ResolverMatch | None:
    key = (settings.ROOT_URLCONF, path)
    try:
        return _routes[key]
    except KeyError:
        pass
    try:
        match = resolve(path)
    except Resolver404:
        match = None
    if len(_routes) >= ROUTES_KEPT:
        _routes.clear()
    _routes[key] = match
    return match


def _accepts_json(accept: str | None) -> bool:
    """Whether DRF's negotiation would pick its JSON renderer for this `Accept` (else a 406 it answers)."""
    if not accept:
        return True
    ranges = (part.split(";", 1)[0].strip() for part in accept.split(","))
    return any(media in ("*/*", "application/*", "application/json") for media in ranges)
