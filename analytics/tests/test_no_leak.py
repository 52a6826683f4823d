"""The PostHog key and host never reach a client: no API response, schema, page or admin page holds them."""

import re

import pytest
from django.contrib import admin
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.urls.resolvers import RoutePattern
from rest_framework.test import APIClient

from analytics.models import OutboxEvent
from testing.factories import ContentFactory, OutboxEventFactory, UserFactory

KEY = "phc_LEAKCHECK_8c1f0e7d2b"
HOST = "https://leakcheck-posthog.example.test"
SECRETS = (KEY, "LEAKCHECK", "leakcheck-posthog")


def route_paths(patterns=None, prefix="", value="1") -> list[str]:
    """Every path the project routes with plain (non-regex) patterns, parameters filled with `value`
    (the id of a real, published item, so pages such as the watch page render)."""
    paths = []
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        if not isinstance(entry.pattern, RoutePattern):
            continue
        route = re.sub(r"<(?:\w+:)?\w+>", value, str(entry.pattern))
        if isinstance(entry, URLResolver):
            if route.startswith("admin/"):
                continue  # admin pages are listed from the admin registry below
            paths += route_paths(entry.url_patterns, prefix + route, value)
        elif isinstance(entry, URLPattern):
            paths.append("/" + prefix + route)
    return sorted(set(paths))


def body_of(response) -> str:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode(errors="replace")
    return response.content.decode(errors="replace")


def assert_clean(response, where):
    text = body_of(response) + " ".join(f"{k}: {v}" for k, v in response.items())
    for secret in SECRETS:
        assert secret not in text, f"{where} leaks {secret!r}"


@pytest.fixture
def leak_settings(settings):
    settings.POSTHOG_API_KEY = KEY
    settings.POSTHOG_HOST = HOST
    return settings


@pytest.mark.django_db
def test_no_endpoint_page_or_schema_exposes_the_posthog_key_or_host(leak_settings):
    staff = UserFactory(is_staff=True)
    staff.is_superuser = True
    staff.save()
    viewer = UserFactory()
    clients = {"anonymous": APIClient(), "viewer": APIClient(), "staff": APIClient()}
    clients["viewer"].force_authenticate(user=viewer)
    clients["staff"].force_login(staff)
    item = ContentFactory(is_premium=False)
    paths = route_paths(value=str(item.pk))
    assert "/api/v1/analytics/events/" in paths and "/api/schema/" in paths

    checked = 0
    for who, client in clients.items():
        for path in paths:
            for method in ("get", "post"):
                response = getattr(client, method)(path, {}, format="json") if method == "post" else client.get(path)
                assert_clean(response, f"{method.upper()} {path} as {who}")
                checked += 1
        # Intake answers of every kind: accepted, partly refused, all refused.
        for events in (
            [{"name": "page_view", "properties": {"path": "/"}}],
            [{"name": "page_view", "properties": {"path": "/"}}, {"name": "nope"}],
            [{"name": "signed_up", "properties": {"method": "x"}}],
        ):
            response = client.post("/api/v1/analytics/events/", {"events": events}, format="json")
            assert_clean(response, f"intake as {who}")
    assert checked > 20


@pytest.mark.django_db
def test_admin_pages_do_not_expose_the_posthog_key_or_host(leak_settings, fake_posthog, client):
    from analytics.services import delivery, senders

    staff = UserFactory(is_staff=True)
    staff.is_superuser = True
    staff.save()
    client.force_login(staff)
    # A row that failed against a host named like the secret one: its error must not repeat it.
    row = OutboxEventFactory()
    sender = senders.PostHogSender(api_key=KEY, host="http://leakcheck-posthog.invalid", timeout=2)
    delivery.outbox_deliver(sender=sender)
    row.refresh_from_db()
    assert row.attempts == 1 and row.last_error
    OutboxEvent.objects.filter(pk=row.pk).update(status=OutboxEvent.Status.DEAD)

    pages = ["/admin/", reverse("admin:analytics_outboxevent_change", args=[row.pk])]
    for model in admin.site._registry:
        opts = model._meta
        pages.append(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
    for page in pages:
        response = client.get(page)
        assert response.status_code == 200, page
        assert_clean(response, page)
