"""publish_many: the bulk path notification fan-out uses; same guarantees as publish."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from csn.realtime import publish as broadcast
from csn.realtime.models import LiveEvent

pytestmark = pytest.mark.django_db


def test_publish_many_allocates_consecutive_seqs_per_topic_after_existing_ones():
    broadcast.publish(topic="user:1", name="first", data={})

    broadcast.publish_many([("user:1", "a", {"n": 1}), ("user:2", "b", {}), ("user:1", "c", {"n": 2})])

    stored = list(LiveEvent.objects.order_by("topic", "seq").values_list("topic", "seq", "name"))
    assert stored == [("user:1", 1, "first"), ("user:1", 2, "a"), ("user:1", 3, "c"), ("user:2", 1, "b")]


def test_publish_many_costs_the_same_queries_for_any_number_of_topics():
    def queries_for(users: int) -> int:
        with CaptureQueriesContext(connection) as captured:
            broadcast.publish_many([(f"user:{1000 + i}", "n", {}) for i in range(users)])
        return len(captured)

    assert queries_for(2) == queries_for(150)


def test_publish_many_fans_out_only_after_commit(django_capture_on_commit_callbacks, monkeypatch):
    sent = []
    monkeypatch.setattr(broadcast, "fan_out", lambda *, topic, seq, frame, at: sent.append((topic, seq)))

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        broadcast.publish_many([("user:7", "n", {}), ("user:8", "n", {})])
    assert sent == []

    for callback in callbacks:
        callback()
    assert sent == [("user:7", 1), ("user:8", 1)]


def test_publish_many_with_nothing_does_nothing(django_assert_num_queries):
    with django_assert_num_queries(0):
        broadcast.publish_many([])


def test_publish_many_stores_every_event_with_its_data_in_chunks():
    events = [(f"user:{i % 7}", "note", {"n": i, "text": 'é "quoted"', "nested": [i]}) for i in range(400)]

    broadcast.publish_many(events)

    stored = list(LiveEvent.objects.order_by("id").values_list("topic", "name", "data", "created_at"))
    assert len(stored) == 400
    assert sorted(row[2]["n"] for row in stored) == list(range(400))
    assert all(row[2]["text"] == 'é "quoted"' and row[2]["nested"] == [row[2]["n"]] for row in stored)
    assert all(row[3] is not None for row in stored)
    per_topic = LiveEvent.objects.filter(topic="user:0").order_by("seq").values_list("seq", flat=True)
    assert list(per_topic) == list(range(1, 59))
