"""DRF's content negotiation, remembered: the renderer a view's renderers and an `Accept` header choose.

DRF parses the `Accept` header and matches it against every renderer's media type on each request; API
clients send the same few headers again and again (or none). The choice depends only on the view's
renderer classes and the header (and a `?format=`, which is not remembered), so it is worked out once per
pair, at most `SIZE` pairs of headers up to `LONGEST` characters (the header is the client's to pick: past
that, the memory starts over; a longer one is negotiated each time). A header no renderer satisfies is not
remembered: DRF's 406 is raised as before."""

import threading

from rest_framework.negotiation import DefaultContentNegotiation

SIZE = 256
LONGEST = 256


class CachedContentNegotiation(DefaultContentNegotiation):
    _chosen: dict = {}
    _lock = threading.Lock()

    def select_renderer(self, request, renderers, format_suffix=None):
        if format_suffix or (self.settings.URL_FORMAT_OVERRIDE in request.query_params):
            return super().select_renderer(request, renderers, format_suffix)
        accept = request.META.get("HTTP_ACCEPT", "*/*")
        if len(accept) > LONGEST:
            return super().select_renderer(request, renderers, format_suffix)
        key = (tuple(type(renderer) for renderer in renderers), accept)
        chosen = self._chosen.get(key)
        if chosen is None:
            renderer, media_type = super().select_renderer(request, renderers, format_suffix)
            chosen = (renderers.index(renderer), media_type)
            with self._lock:
                if len(self._chosen) >= SIZE:
                    self._chosen.clear()
                self._chosen[key] = chosen
        index, media_type = chosen
        return renderers[index], media_type
