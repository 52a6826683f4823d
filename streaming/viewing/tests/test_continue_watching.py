from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from content.models import Content
from streaming.viewing.selectors import continue_watching
from streaming.viewing.tests.factories import watched
from testing.factories import ContentFactory

pytestmark = pytest.mark.django_db


def ids(response):
    return [item["content_id"] for item in response.json()["results"]]


def test_in_progress_items_newest_first_with_content(auth_client, user):
    old, new, middle = ContentFactory(), ContentFactory(), ContentFactory()
    watched(user, old, minutes_ago=30)
    watched(user, new, minutes_ago=1)
    watched(user, middle, minutes_ago=10)

    response = auth_client.get("/api/v1/continue-watching/")

    assert response.status_code == 200
    assert ids(response) == [new.pk, middle.pk, old.pk]
    first = response.json()["results"][0]
    assert first["content"]["id"] == new.pk
    assert first["content"]["title"] == new.title
    assert first["position_seconds"] == 300.0


def test_completed_items_are_skipped(auth_client, user):
    done, going = ContentFactory(), ContentFactory()
    watched(user, done, percent=95)
    watched(user, going, percent=40)

    assert ids(auth_client.get("/api/v1/continue-watching/")) == [going.pk]


def test_content_no_longer_available_is_skipped(auth_client, user):
    archived = ContentFactory()
    expired = ContentFactory()
    fine = ContentFactory()
    for item in (archived, expired, fine):
        watched(user, item)
    Content.objects.filter(pk=archived.pk).update(state=Content.State.ARCHIVED)
    Content.objects.filter(pk=expired.pk).update(available_until=timezone.now() - timedelta(minutes=1))

    assert ids(auth_client.get("/api/v1/continue-watching/")) == [fine.pk]


def test_only_the_users_own_items(auth_client, user, other_user):
    mine, theirs = ContentFactory(), ContentFactory()
    watched(user, mine)
    watched(other_user, theirs)

    assert ids(auth_client.get("/api/v1/continue-watching/")) == [mine.pk]


def test_limit_defaults_to_ten_and_goes_up_to_fifty(auth_client, user):
    for i in range(55):
        watched(user, ContentFactory(), minutes_ago=i)

    assert len(ids(auth_client.get("/api/v1/continue-watching/"))) == 10
    assert len(ids(auth_client.get("/api/v1/continue-watching/?limit=3"))) == 3
    assert len(ids(auth_client.get("/api/v1/continue-watching/?limit=50"))) == 50


@pytest.mark.parametrize("limit", ["0", "-1", "51", "abc", "1.5"])
def test_bad_limit_is_a_400(auth_client, limit):
    response = auth_client.get(f"/api/v1/continue-watching/?limit={limit}")

    assert response.status_code == 400
    assert response.json()["error"]["fields"]["limit"]


@pytest.mark.parametrize("size", [1, 40])
def test_one_query_whatever_the_size(auth_client, user, django_assert_num_queries, size):
    for i in range(size):
        watched(user, ContentFactory(), minutes_ago=i)

    with django_assert_num_queries(1):
        response = auth_client.get("/api/v1/continue-watching/?limit=50")
    assert len(ids(response)) == size


def test_anonymous_is_refused(api_client):
    assert api_client.get("/api/v1/continue-watching/").status_code in (401, 403)


def test_the_query_is_served_by_the_continue_watching_index(user):
    """The plan walks the user's rows in index order: no sort, no scan of other users' rows."""
    queryset = continue_watching(user=user)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # On tiny tables a scan and a sort are cheapest; rule them out to see whether an index
            # gives both the filter and the order (if none did, the plan would still have to sort).
            for setting in ("enable_seqscan", "enable_bitmapscan", "enable_sort"):
                cursor.execute(f"SET LOCAL {setting} = off")
        plan = queryset.explain()
    if connection.vendor == "postgresql":
        assert "progress_continue_idx" in plan
        assert "Sort" not in plan
    else:
        # SQLite's planner may take the full (user, -last_watched_at, -id) index; either fits.
        assert "USING INDEX progress_" in plan
        assert "TEMP B-TREE" not in plan


@pytest.mark.parametrize("staff", [False, True])
def test_the_constant_statement_gives_what_the_queryset_gives(user, staff, django_assert_num_queries):
    from streaming.viewing.api.serializers import progress_representation
    from streaming.viewing.selectors import continue_watching_items

    user.is_staff = staff
    items = [ContentFactory(), ContentFactory(is_premium=True, thumbnail="thumbnails/a.jpg"), ContentFactory()]
    items.append(ContentFactory(state=Content.State.DRAFT))  # staff only
    items.append(ContentFactory(available_until=timezone.now() - timedelta(minutes=1)))  # staff only
    for minutes, item in enumerate(items):
        watched(user, item, minutes_ago=minutes + 1)
    expected = [progress_representation(item, with_content=True) for item in continue_watching(user=user, limit=4)]
    with django_assert_num_queries(1):
        got = [progress_representation(item, with_content=True) for item in continue_watching_items(user=user, limit=4)]
    assert got == expected and len(got) == (4 if staff else 3)


def test_no_parameters_mean_what_the_query_serializer_answers_for_none():
    from streaming.viewing.api.serializers import ContinueWatchingQuerySerializer
    from streaming.viewing.selectors import CONTINUE_WATCHING_DEFAULT_LIMIT

    query = ContinueWatchingQuerySerializer(data={})
    assert query.is_valid() and query.validated_data == {"limit": CONTINUE_WATCHING_DEFAULT_LIMIT}
