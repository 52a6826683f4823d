"""Two publishers press Publish on the same item at once: one wins, the other hears why."""

import threading
import time

import pytest
from django.db import OperationalError, connection

from analytics.models import OutboxEvent
from content.models import Content, ContentAuditLog
from content.services.workflow import content_publish
from csn.errors import ConflictError
from testing.factories import ContentFactory


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_publishes_one_wins_one_conflict(publisher, superuser, outbox_held):
    item = ContentFactory(state=Content.State.IN_REVIEW)
    # Each thread holds its own copy read before either publishes, like two open admin pages.
    copies = [Content.objects.get(pk=item.pk), Content.objects.get(pk=item.pk)]
    actors = [publisher, superuser]
    barrier = threading.Barrier(2)
    results: list = [None, None]

    def publish(index):
        try:
            barrier.wait(timeout=10)
            for _ in range(500):
                try:
                    content_publish(content=copies[index], actor=actors[index])
                    results[index] = "published"
                    return
                except ConflictError as exc:
                    results[index] = exc
                    return
                except OperationalError as exc:
                    # SQLite's in-memory test database (shared cache) reports a table lock at once instead
                    # of waiting like a file database's busy timeout; wait and retry as that would.
                    if connection.vendor != "sqlite" or "locked" not in str(exc):
                        raise
                    time.sleep(0.01)
        except Exception as exc:
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=publish, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

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
