"""Pages served by Django outside the API: the home page and the watch page (templates, plain JavaScript
over the live gateway), and the live protocol's AsyncAPI document."""

import functools
from pathlib import Path

from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import ensure_csrf_cookie

from content.spoilers import spoilers_for
from csn.errors import NotFoundError
from streaming.live.selectors import access_game, games_to_watch


def home(request):
    """What a new visitor needs: the games to watch, the API docs, the admin, signing in."""
    return render(request, "streaming/home.html", {"games": games_to_watch()})


@ensure_csrf_cookie  # the page's spoiler controls call the API with the session
def game_watch(request, game_id: int):
    try:
        game = access_game(game_id)
    except NotFoundError:
        raise Http404("No such game.") from None
    user = request.user if request.user.is_authenticated else None
    context = {"game": game, "viewer": user, "score_hidden": spoilers_for(user).holds(game)}
    return render(request, "streaming/watch.html", context)


@functools.cache
def _asyncapi() -> bytes:
    return (Path(__file__).parent / "asyncapi.yaml").read_bytes()


def asyncapi_document(request):
    """The live protocol, machine-readable (AsyncAPI 3): every message and every topic's events."""
    return HttpResponse(_asyncapi(), content_type="application/yaml; charset=utf-8")
