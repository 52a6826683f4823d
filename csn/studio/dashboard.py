"""The Studio dashboard's panels. An app registers a Panel in its AppConfig.ready(); the admin index asks
each panel the user may see for its context and renders its template, in `order`."""

from collections.abc import Callable
from dataclasses import dataclass

from django.template.loader import render_to_string


@dataclass(frozen=True)
class Panel:
    key: str  # the panel's id on the page (`panel-<key>`), for tests and links
    title: str
    order: int
    template: str
    context: Callable  # (request) -> dict
    permission: str = ""  # a Django permission the user must hold, e.g. "content.view_content"


_panels: dict[str, Panel] = {}


def panel_register(panel: Panel) -> None:
    _panels[panel.key] = panel


def dashboard_render(request) -> list[dict]:
    """The user's panels as [{key, title, html}], in order."""
    shown = []
    for panel in sorted(_panels.values(), key=lambda p: (p.order, p.key)):
        if panel.permission and not request.user.has_perm(panel.permission):
            continue
        context = {"panel": panel, "request": request, **panel.context(request)}
        shown.append({"key": panel.key, "title": panel.title, "html": render_to_string(panel.template, context)})
    return shown
