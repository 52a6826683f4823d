"""csn.api.negotiation: the remembered renderer choice is DRF's own, and the memory stays bounded."""

import pytest
from rest_framework.exceptions import NotAcceptable
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from csn.api import negotiation
from csn.api.negotiation import CachedContentNegotiation

ACCEPTS = [
    None,
    "*/*",
    "application/json",
    "text/html",
    "text/html;q=0.5, application/json",
    "application/json; indent=4",
    "application/*",
    "text/html, application/xhtml+xml, application/xml;q=0.9, */*;q=0.8",
]


def choose(negotiator, accept, renderers, query=""):
    headers = {} if accept is None else {"HTTP_ACCEPT": accept}
    request = Request(APIRequestFactory().get("/x/" + query, **headers))
    try:
        renderer, media_type = negotiator.select_renderer(request, [cls() for cls in renderers])
    except NotAcceptable:
        return "406"
    return type(renderer), media_type


@pytest.mark.parametrize("renderers", [[JSONRenderer], [JSONRenderer, BrowsableAPIRenderer]])
def test_the_choice_is_drfs_the_first_time_and_after(renderers, monkeypatch):
    monkeypatch.setattr(CachedContentNegotiation, "_chosen", {})
    for accept in ACCEPTS * 2:
        assert choose(CachedContentNegotiation(), accept, renderers) == choose(
            DefaultContentNegotiation(), accept, renderers
        ), accept
    assert choose(CachedContentNegotiation(), None, renderers, "?format=json") == (JSONRenderer, "application/json")


def test_an_unacceptable_header_is_refused_each_time(monkeypatch):
    monkeypatch.setattr(CachedContentNegotiation, "_chosen", {})
    for _ in range(2):
        assert choose(CachedContentNegotiation(), "image/png", [JSONRenderer]) == "406"
    assert CachedContentNegotiation._chosen == {}


def test_the_memory_is_bounded(monkeypatch):
    monkeypatch.setattr(CachedContentNegotiation, "_chosen", {})
    monkeypatch.setattr(negotiation, "SIZE", 3)
    for n in range(10):
        choose(CachedContentNegotiation(), f"application/json; v={n}", [JSONRenderer])
        assert len(CachedContentNegotiation._chosen) <= 3
    choose(CachedContentNegotiation(), "application/json, " + "text/x-long, " * 40, [JSONRenderer])
    assert all(len(accept) <= negotiation.LONGEST for _, accept in CachedContentNegotiation._chosen)
