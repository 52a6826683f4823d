"""Catalogue reads from the cache: per entitlement variant, stale never after a change that shows
(publish, edit, unpublish, a link, a team's name, a score, an availability window's edge, a lapsed
subscription), validators and shared-cache headers."""

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.services import subscription_update
from content.models import Content
from content.services import cache as catalogue_cache
from content.services.editing import content_update
from content.services.workflow import content_transition
from testing.factories import ContentFactory, GameFactory, TeamFactory

URL = "/api/v1/content/"


def client_for(user=None):
    client = APIClient()
    if user is not None:
        client.force_authenticate(user=type(user).objects.get(pk=user.pk))  # as a request loads it
    return client


def listed(response) -> dict[int, dict]:
    assert response.status_code == 200, response.content
    return {row["id"]: row for row in response.json()["results"]}


@pytest.fixture
def clock(monkeypatch):
    """timezone.now() moved by hand: `clock.advance(seconds)`."""

    class Clock:
        offset = timedelta()

        def advance(self, seconds):
            self.offset += timedelta(seconds=seconds)

    clock, real = Clock(), timezone.now
    monkeypatch.setattr(timezone, "now", lambda: real() + clock.offset)
    return clock


@pytest.mark.django_db
def test_a_repeated_read_is_served_from_the_cache_without_a_query(django_assert_num_queries):
    ContentFactory.create_batch(3)
    first = client_for().get(URL)
    with django_assert_num_queries(0):
        again = client_for().get(URL)
    assert again.status_code == 200 and again.content == first.content
    assert again["ETag"] == first["ETag"] and again["Content-Type"] == "application/json"


@pytest.mark.django_db
@pytest.mark.parametrize("path", [URL, "/api/v1/teams/", "/api/v1/players/", "/api/v1/games/"])
def test_public_answers_carry_shared_cache_headers(path):
    ContentFactory()
    response = client_for().get(path)
    control = {part.strip() for part in response["Cache-Control"].split(",")}
    shared = 5 if "games" in path else 30
    assert control == {"public", "max-age=0", f"s-maxage={shared}", f"stale-while-revalidate={shared}"}
    assert {"Authorization", "Cookie"} <= {v.strip() for v in response["Vary"].split(",")}
    assert response["ETag"].startswith('"')


@pytest.mark.django_db
def test_signed_in_answers_are_private(viewer):
    ContentFactory()
    response = client_for(viewer).get(URL)
    assert {p.strip() for p in response["Cache-Control"].split(",")} == {"private", "no-cache"}
    assert response["ETag"]


@pytest.mark.django_db
@pytest.mark.parametrize("warm", [False, True])
def test_if_none_match_is_a_304_without_a_body(warm):
    item = ContentFactory()
    etag = client_for().get(f"{URL}{item.pk}/")["ETag"]
    if not warm:
        cache.clear()  # the 304 also comes from a freshly computed answer
    for header in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        response = client_for().get(f"{URL}{item.pk}/", HTTP_IF_NONE_MATCH=header)
        assert response.status_code == 304 and response.content == b""
        assert response["ETag"] == etag and "s-maxage=30" in response["Cache-Control"]
    assert client_for().get(f"{URL}{item.pk}/", HTTP_IF_NONE_MATCH='"other"').status_code == 200


@pytest.mark.django_db
def test_each_entitlement_variant_has_its_own_answer(viewer, premium_viewer):
    item = ContentFactory(is_premium=True)
    for _ in range(2):  # computed, then from the cache
        assert listed(client_for().get(URL))[item.pk]["locked"] is True
        assert listed(client_for(viewer).get(URL))[item.pk]["locked"] is True
        assert listed(client_for(premium_viewer).get(URL))[item.pk]["locked"] is False


@pytest.mark.django_db
def test_a_lapsed_subscription_locks_at_once_despite_the_cached_premium_answer(premium_viewer, clock):
    item = ContentFactory(is_premium=True)
    subscription_update(
        user=premium_viewer, plan="premium", status="active", current_period_end=timezone.now() + timedelta(hours=1)
    )
    assert client_for(premium_viewer).get(URL).json()["results"][0]["locked"] is False
    clock.advance(3601)  # the period ends; no catalogue change
    assert listed(client_for(premium_viewer).get(URL))[item.pk]["locked"] is True
    subscription_update(user=premium_viewer, plan="free", status="active")
    assert listed(client_for(premium_viewer).get(f"{URL}?page_size=5"))[item.pk]["locked"] is True


@pytest.mark.django_db
def test_an_edit_shows_at_once(editor, publisher):
    item = ContentFactory(title="Before")
    detail = f"{URL}{item.pk}/"
    assert client_for().get(detail).json()["title"] == "Before"
    assert client_for().get(URL).json()["results"][0]["locked"] is False
    content_update(content=item, actor=publisher, title="After", is_premium=True)
    assert client_for().get(detail).json()["title"] == "After"
    row = client_for().get(URL).json()["results"][0]
    assert row["title"] == "After" and row["locked"] is True


@pytest.mark.django_db
def test_publish_and_unpublish_show_at_once(editor, publisher):
    item = ContentFactory(state=Content.State.IN_REVIEW)
    assert item.pk not in listed(client_for().get(URL))
    content_transition(content=item, actor=publisher, name="publish")
    assert item.pk in listed(client_for().get(URL))
    assert client_for().get(f"{URL}{item.pk}/").status_code == 200
    content_transition(content=Content.objects.get(pk=item.pk), actor=publisher, name="unpublish")
    assert item.pk not in listed(client_for().get(URL))
    assert client_for().get(f"{URL}{item.pk}/").status_code == 404


@pytest.mark.django_db
def test_the_version_moves_again_after_commit(django_capture_on_commit_callbacks):
    before = catalogue_cache.catalogue_generation([catalogue_cache.CONTENT])
    with django_capture_on_commit_callbacks() as callbacks:
        ContentFactory()
    during = catalogue_cache.catalogue_generation([catalogue_cache.CONTENT])
    for callback in callbacks:
        callback()
    after = catalogue_cache.catalogue_generation([catalogue_cache.CONTENT])
    assert len({before, during, after}) == 3


@pytest.mark.django_db
def test_linked_teams_and_their_names_show_at_once():
    team = TeamFactory(name="Old name")
    item = ContentFactory(teams=[team])
    assert listed(client_for().get(URL))[item.pk]["teams"][0]["name"] == "Old name"
    team.name = "New name"
    team.save()
    assert listed(client_for().get(URL))[item.pk]["teams"][0]["name"] == "New name"
    assert client_for().get("/api/v1/teams/").json()["results"][0]["name"] == "New name"
    item.teams.clear()
    assert listed(client_for().get(URL))[item.pk]["teams"] == []


@pytest.mark.django_db
def test_a_score_shows_at_once_in_the_schedule_and_the_game():
    game = GameFactory(status="live")
    assert client_for().get("/api/v1/games/").json()["results"][0]["home_score"] == 0
    assert client_for().get(f"/api/v1/games/{game.pk}/").json()["home_score"] == 0
    game.home_score = 3
    game.save()
    assert client_for().get("/api/v1/games/").json()["results"][0]["home_score"] == 3
    assert client_for().get(f"/api/v1/games/{game.pk}/").json()["home_score"] == 3


@pytest.mark.django_db
@pytest.mark.parametrize("edge", ["available_from", "available_until"])
def test_an_availability_window_edge_shows_when_the_clock_passes_it(clock, edge, django_assert_max_num_queries):
    soon = timezone.now() + timedelta(minutes=10)
    item = ContentFactory(**{edge: soon})
    other = ContentFactory()
    shown_before = edge == "available_until"
    assert (item.pk in listed(client_for().get(URL))) is shown_before
    clock.advance(9 * 60)
    with django_assert_max_num_queries(0):  # still before the edge: cached
        assert (item.pk in listed(client_for().get(URL))) is shown_before
    clock.advance(61)  # past it, and nothing saved
    rows = listed(client_for().get(URL))
    assert (item.pk in rows) is not shown_before and other.pk in rows
    assert (client_for().get(f"{URL}{item.pk}/").status_code == 200) is not shown_before


@pytest.mark.django_db
def test_staff_answers_are_never_cached(editor):
    draft = ContentFactory(state=Content.State.DRAFT)
    assert draft.pk not in listed(client_for().get(URL))
    response = client_for(editor).get(URL)
    assert draft.pk in listed(response) and "ETag" not in response
    assert {p.strip() for p in response["Cache-Control"].split(",")} == {"private", "no-cache"}
    assert draft.pk not in listed(client_for().get(URL))


@pytest.mark.django_db
def test_an_error_is_not_cached_and_keeps_its_shape():
    response = client_for().get(URL, {"year": "nope"})
    assert response.status_code == 400 and "ETag" not in response
    assert client_for().get(URL, {"year": "nope"}).json()["error"]["code"]


@pytest.mark.django_db
def test_an_unreachable_cache_is_passed_by(monkeypatch):
    item = ContentFactory()

    def down(*args, **kwargs):
        raise ConnectionError("cache down")

    for name in ("get", "get_many", "set", "add", "incr"):
        monkeypatch.setattr(cache, name, down)
    assert item.pk in listed(client_for().get(URL))
    assert client_for().get(f"{URL}{item.pk}/").status_code == 200
    ContentFactory()  # a change while the cache is down does not fail either


@pytest.mark.django_db
def test_a_signed_in_reader_without_spoiler_safe_mode_costs_one_query_more_and_no_policy(
    viewer, django_assert_num_queries
):
    ContentFactory(reveals_result=True, game=GameFactory(status="final"))
    catalogue_cache.catalogue_generation(catalogue_cache.FAMILIES)
    reader, reader_again = client_for(viewer), client_for(viewer)
    # the grants, whether spoiler-safe mode is on, content, teams, players, images: the policy is not read
    with django_assert_num_queries(6):
        first = reader.get(URL)
    with django_assert_num_queries(2):  # from the cache: the grants and the spoiler-safe check only
        again = reader_again.get(URL)
    assert again.content == first.content and again["ETag"] == first["ETag"]
