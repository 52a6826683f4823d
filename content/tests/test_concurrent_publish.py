"""Two publishers press Publish on the same item at once: one wins, the other hears why."""

import pytest

from analytics.models import OutboxEvent
from content.models import Content, ContentAuditLog
from content.services.workflow import content_publish
from csn.errors import ConflictError
from testing.concurrency import at_once
from testing.factories import ContentFactory


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_publishes_one_wins_one_conflict(publisher, superuser, outbox_held):
    item = ContentFactory(state=Content.State.IN_REVIEW)
    # Each thread holds its own copy read before either publishes, like two open admin pages.
    copies = [Content.objects.get(pk=item.pk), Content.objects.get(pk=item.pk)]
    actors = [publisher, superuser]

    def publish(index):
        try:
            content_publish(content=copies[index], actor=actors[index])
        except ConflictError as exc:
            return exc
        return "published"

    results = at_once(lambda: publish(0), lambda: publish(1))

    assert sorted(map(type, results), key=str) == sorted([str, ConflictError], key=str), results
    conflict = next(r for r in results if isinstance(r, ConflictError))
    assert conflict.code == "state_changed" and conflict.status_code == 409
    assert "published" in conflict.message
    item.refresh_from_db()
    assert item.state == Content.State.PUBLISHED
    assert ContentAuditLog.objects.filter(content=item, to_state="published").count() == 1
    assert OutboxEvent.objects.filter(name="content_published").count() == 1


@pytest.mark.django_db
def test_publish_of_a_copy_that_is_already_stale_is_a_conflict(publisher):
    item = ContentFactory(state=Content.State.IN_REVIEW)
    stale = Content.objects.get(pk=item.pk)
    content_publish(content=item, actor=publisher)
    with pytest.raises(ConflictError):
        content_publish(content=stale, actor=publisher)
    assert ContentAuditLog.objects.filter(content=item).count() == 1
