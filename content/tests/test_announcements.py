"""What publishing announces to the layers above (`content.announcements.content_published`)."""

import pytest
from django.db import connection

from analytics.models import OutboxEvent
from content.announcements import ContentPublished, content_published
from content.models import Content, ContentAuditLog, Team
from content.services.workflow import content_publish
from csn.errors import ApplicationError, ConflictError, PermissionDeniedError
from testing.factories import ContentFactory

State = Content.State


def _receive(monkeypatch, receiver):
    """Subscribe `receiver` for this test only, after the real receivers (the upper apps')."""
    monkeypatch.setattr(content_published, "_receivers", [*content_published._receivers, receiver])


@pytest.fixture
def announced(monkeypatch):
    """Every ContentPublished announced during the test, in order."""
    events: list[ContentPublished] = []
    _receive(monkeypatch, events.append)
    return events


@pytest.mark.django_db
def test_publishing_announces_once_with_the_content(publisher, announced):
    item = ContentFactory(state=State.IN_REVIEW)
    content_publish(content=item, actor=publisher)
    assert len(announced) == 1
    assert announced[0].content.pk == item.pk
    assert announced[0].content.state == State.PUBLISHED


@pytest.mark.django_db
def test_receivers_run_inside_the_publish_transaction(monkeypatch, publisher):
    item = ContentFactory(state=State.IN_REVIEW)
    depth_outside = len(connection.savepoint_ids)  # the test's own transaction
    seen = []

    def receiver(event):
        # Inside the transaction the publish opened, with the publish already written.
        seen.append((len(connection.savepoint_ids) > depth_outside, Content.objects.get(pk=event.content.pk).state))

    _receive(monkeypatch, receiver)
    content_publish(content=item, actor=publisher)
    assert seen == [(True, State.PUBLISHED)]


@pytest.mark.django_db
def test_what_a_receiver_writes_rolls_back_with_a_failed_publish(monkeypatch, publisher):
    item = ContentFactory(state=State.IN_REVIEW)

    def writes_then_fails(event):
        Team.objects.create(name="Written by a receiver", slug="written-by-a-receiver")
        raise RuntimeError("a receiver failed")

    _receive(monkeypatch, writes_then_fails)
    with pytest.raises(RuntimeError):
        content_publish(content=item, actor=publisher)
    assert not Team.objects.filter(slug="written-by-a-receiver").exists()
    item.refresh_from_db()
    assert item.state == State.IN_REVIEW and item.published_at is None
    assert not ContentAuditLog.objects.filter(content=item).exists()
    assert not OutboxEvent.objects.filter(name="content_published").exists()


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["editor", "staff_without_role", "viewer"])
def test_a_refused_publish_announces_nothing(request, role, announced):
    item = ContentFactory(state=State.IN_REVIEW)
    with pytest.raises(PermissionDeniedError):
        content_publish(content=item, actor=request.getfixturevalue(role))
    assert announced == []


@pytest.mark.django_db
@pytest.mark.parametrize("state", [State.DRAFT, State.PUBLISHED, State.ARCHIVED])
def test_publishing_from_the_wrong_state_announces_nothing(publisher, announced, state):
    item = ContentFactory(state=state)
    with pytest.raises(ApplicationError) as exc:
        content_publish(content=item, actor=publisher)
    assert exc.value.code == "illegal_transition"
    assert announced == []


@pytest.mark.django_db
def test_a_conflicting_publish_announces_nothing(publisher, announced):
    item = ContentFactory(state=State.IN_REVIEW)
    stale = Content.objects.get(pk=item.pk)
    content_publish(content=item, actor=publisher)
    announced.clear()
    with pytest.raises(ConflictError):
        content_publish(content=stale, actor=publisher)
    assert announced == []
