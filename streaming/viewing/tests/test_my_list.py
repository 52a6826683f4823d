from datetime import timedelta

import pytest
from django.utils import timezone

from analytics.models import OutboxEvent
from content.models import Content
from streaming.viewing.models import MyListItem
from testing.factories import ContentFactory

pytestmark = pytest.mark.django_db


def add(client, content_id):
    return client.post("/api/v1/my-list/", {"content_id": content_id}, format="json")


def test_add_is_idempotent_and_tracked_once(auth_client, user, published):
    content = ContentFactory()

    first = add(auth_client, content.pk)
    second = add(auth_client, content.pk)

    assert first.status_code == 201
    assert second.status_code == 200
    assert first.json()["content"]["id"] == content.pk
    assert MyListItem.objects.filter(user=user).count() == 1
    [event] = OutboxEvent.objects.filter(name="my_list_added")
    assert event.distinct_id == str(user.pk)
    assert event.properties["video_id"] == content.pk
    assert [(uid, name, data["in_list"]) for uid, name, data in published] == [(user.pk, "mylist.changed", True)]


def test_remove_is_idempotent(auth_client, user, published):
    content = ContentFactory()
    add(auth_client, content.pk)

    assert auth_client.delete(f"/api/v1/my-list/{content.pk}/").status_code == 204
    assert auth_client.delete(f"/api/v1/my-list/{content.pk}/").status_code == 204
    assert not MyListItem.objects.exists()
    assert [(name, data) for _, name, data in published][1:] == [
        ("mylist.changed", {"content_id": content.pk, "in_list": False})
    ]


def test_membership(auth_client):
    inside, outside = ContentFactory(), ContentFactory()
    add(auth_client, inside.pk)

    yes = auth_client.get(f"/api/v1/my-list/{inside.pk}/").json()
    no = auth_client.get(f"/api/v1/my-list/{outside.pk}/").json()

    assert yes["in_list"] is True
    assert yes["added_at"]
    assert no == {"content_id": outside.pk, "in_list": False, "added_at": None}


def test_membership_of_unavailable_content_is_a_404(auth_client):
    draft = ContentFactory(state=Content.State.DRAFT, published_at=None)
    for content_id in (draft.pk, 999999):
        response = auth_client.get(f"/api/v1/my-list/{content_id}/")
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"


def test_list_is_newest_first_paginated_and_skips_unavailable(auth_client, user):
    items = [ContentFactory() for _ in range(4)]
    for item in items:
        add(auth_client, item.pk)
    # Make the order unambiguous whatever the clock resolution.
    for age, item in enumerate(reversed(items)):
        MyListItem.objects.filter(content=item).update(created_at=timezone.now() - timedelta(minutes=age))
    Content.objects.filter(pk=items[1].pk).update(state=Content.State.ARCHIVED)

    page = auth_client.get("/api/v1/my-list/?page_size=2").json()
    assert [r["content_id"] for r in page["results"]] == [items[3].pk, items[2].pk]
    rest = auth_client.get(page["next"]).json()
    assert [r["content_id"] for r in rest["results"]] == [items[0].pk]


def test_list_query_count(auth_client, django_assert_num_queries):
    for _ in range(12):
        add(auth_client, ContentFactory().pk)
    with django_assert_num_queries(1):
        assert len(auth_client.get("/api/v1/my-list/").json()["results"]) == 12


def test_lists_are_per_user(auth_client, other_client, user, other_user):
    mine = ContentFactory()
    add(auth_client, mine.pk)

    assert other_client.get("/api/v1/my-list/").json()["results"] == []
    assert other_client.get(f"/api/v1/my-list/{mine.pk}/").json()["in_list"] is False
    # Their remove of the same content touches only their own (empty) list.
    assert other_client.delete(f"/api/v1/my-list/{mine.pk}/").status_code == 204
    assert MyListItem.objects.filter(user=user).count() == 1


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({}, 400, "required"),
        ({"content_id": "abc"}, 400, "invalid"),
        ({"content_id": 0}, 400, "min_value"),
        ({"content_id": 999999}, 404, None),
    ],
)
def test_bad_add_writes_nothing(auth_client, published, body, status, code):
    response = auth_client.post("/api/v1/my-list/", body, format="json")

    assert response.status_code == status
    if code:
        assert response.json()["error"]["fields"]["content_id"][0]["code"] == code
    assert not MyListItem.objects.exists()
    assert not OutboxEvent.objects.filter(name="my_list_added").exists()
    assert published == []


def test_adding_unavailable_content_is_a_404(auth_client):
    expired = ContentFactory(available_until=timezone.now() - timedelta(hours=1))
    assert add(auth_client, expired.pk).status_code == 404
    assert not MyListItem.objects.exists()
