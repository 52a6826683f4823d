import pytest

from streaming.viewing.models import WatchProgress
from streaming.viewing.tests.factories import watched
from testing.factories import ContentFactory

pytestmark = pytest.mark.django_db


def ids(body):
    return [item["content_id"] for item in body["results"]]


def test_history_lists_everything_watched_newest_first(auth_client, user, other_user):
    done, going, theirs = ContentFactory(), ContentFactory(), ContentFactory()
    watched(user, done, percent=100, minutes_ago=1)
    watched(user, going, percent=20, minutes_ago=5)
    watched(other_user, theirs)

    response = auth_client.get("/api/v1/history/")

    assert response.status_code == 200
    assert ids(response.json()) == [done.pk, going.pk]
    assert response.json()["results"][0]["content"]["id"] == done.pk
    assert response.json()["results"][0]["completed"] is True


def test_history_is_paginated(auth_client, user):
    items = [ContentFactory() for _ in range(5)]
    for minutes_ago, item in enumerate(items):
        watched(user, item, minutes_ago=minutes_ago)

    first = auth_client.get("/api/v1/history/?page_size=2").json()
    assert ids(first) == [items[0].pk, items[1].pk]
    second = auth_client.get(first["next"]).json()
    assert ids(second) == [items[2].pk, items[3].pk]


def test_history_page_query_count(auth_client, user, django_assert_num_queries):
    for i in range(25):
        watched(user, ContentFactory(), minutes_ago=i)

    with django_assert_num_queries(1):
        response = auth_client.get("/api/v1/history/")
    assert len(response.json()["results"]) == 20


def test_delete_one_entry(auth_client, user, published):
    keep, drop = ContentFactory(), ContentFactory()
    watched(user, keep)
    watched(user, drop)

    response = auth_client.delete(f"/api/v1/history/{drop.pk}/")

    assert response.status_code == 204
    assert list(WatchProgress.objects.filter(user=user).values_list("content_id", flat=True)) == [keep.pk]
    assert published == [(user.pk, "progress.deleted", {"content_id": drop.pk})]
    again = auth_client.delete(f"/api/v1/history/{drop.pk}/")
    assert again.status_code == 404
    assert again.json()["error"]["code"] == "not_in_history"


def test_deleting_another_users_entry_is_a_404_and_keeps_it(auth_client, other_user):
    theirs = ContentFactory()
    watched(other_user, theirs)

    assert auth_client.delete(f"/api/v1/history/{theirs.pk}/").status_code == 404
    assert WatchProgress.objects.filter(user=other_user).count() == 1


def test_clear_all_clears_only_the_users_own(auth_client, user, other_user, published):
    for _ in range(3):
        watched(user, ContentFactory())
    watched(other_user, ContentFactory())

    assert auth_client.delete("/api/v1/history/").status_code == 204
    assert not WatchProgress.objects.filter(user=user).exists()
    assert WatchProgress.objects.filter(user=other_user).count() == 1
    assert published == [(user.pk, "history.cleared", {})]
