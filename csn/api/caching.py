"""Cached reads: an answer kept in the server's cache per variant of its reader, with validators and
headers for shared caches (CDNs) and browsers.

A view using `CachedReadMixin` says what its answer depends on: `cache_variant(request)` (a string per
kind of reader whose answers may differ, None for a reader never cached) and `cache_generation()` (a
string that changes whenever the data shown may have changed; versioned keys, so nothing is ever
deleted). The key is both and the path with its query string in a fixed order. A hit is the stored
bytes, with no serializer, query or rendering: after authentication, permissions and throttles, as
every request.

Every cacheable 200 carries a strong `ETag` (a digest of the body), and `If-None-Match` with it is a
304 without a body. `Cache-Control`: an answer to a reader without credentials is `public` with
`s-maxage` and `stale-while-revalidate` (shared caches may keep it that long; browsers revalidate,
`max-age=0`); any other is `private, no-cache` (a browser keeps it, a shared cache never). `Vary`
names `Authorization` and `Cookie`, the credentials. A cache that fails is passed by (the answer is
computed, not stored)."""

import hashlib
import logging

from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse, HttpResponseNotModified
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.http import parse_etags, urlencode
from rest_framework.response import Response

logger = logging.getLogger(__name__)


class CachedReadMixin:
    # Seconds a shared cache may serve the answer, and serve it stale while it refetches it.
    shared_max_age: int | None = None  # None: settings.CATALOGUE_SHARED_MAX_AGE
    stale_while_revalidate: int | None = None  # None: settings.CATALOGUE_STALE_WHILE_REVALIDATE

    def cache_variant(self, request) -> str | None:
        raise NotImplementedError

    def cache_generation(self) -> str:
        raise NotImplementedError

    def get(self, request, *args, **kwargs):
        self.cache_key = None
        variant = self.cache_variant(request) if settings.CATALOGUE_CACHE_SECONDS > 0 else None
        if variant is not None:
            try:
                self.cache_key = _key(self.cache_generation(), variant, request)
                hit = cache.get(self.cache_key)
            except Exception:
                logger.warning("read cache unavailable: %s not cached", request.path, exc_info=True)
                self.cache_key = hit = None
            if hit is not None:
                etag, body = hit
                self.cache_key = None  # nothing to store
                return self._validated(request, HttpResponse(body, content_type="application/json"), etag)
        return self.read(request, *args, **kwargs)

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
            patch_cache_control(response, private=True, no_cache=True)
        else:
            shared = settings.CATALOGUE_SHARED_MAX_AGE if self.shared_max_age is None else self.shared_max_age
            stale = (
                settings.CATALOGUE_STALE_WHILE_REVALIDATE
                if self.stale_while_revalidate is None
                else self.stale_while_revalidate
            )
            patch_cache_control(response, public=True, max_age=0, s_maxage=shared, stale_while_revalidate=stale)
        patch_vary_headers(response, ("Authorization", "Cookie"))
        return response


def _key(generation: str, variant: str, request) -> str:
    query = urlencode(sorted(request.GET.lists()), doseq=True)
    digest = hashlib.blake2b(f"{request.path}?{query}".encode(), digest_size=16).hexdigest()
    return f"read:{generation}:{variant}:{digest}"


def _matches(header: str | None, etag: str) -> bool:
    if not header:
        return False
    tags = parse_etags(header)
    return "*" in tags or any(tag.removeprefix("W/") == etag for tag in tags)
