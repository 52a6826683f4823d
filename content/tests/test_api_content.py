"""The public catalogue API: who sees what, premium entitlement, filters, paging, query counts."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.services import subscription_update
from content.models import Content
from content.services.cache import FAMILIES, catalogue_generation
from testing.factories import ContentFactory, GameFactory, PlayerFactory, TeamFactory

URL = "/api/v1/content/"
State = Content.State


def client_for(user=None):
    client = APIClient()
    if user is not None:
        client.force_authenticate(user=user)
    return client


def ids(response):
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


@pytest.mark.django_db
def test_only_available_published_items_reach_viewers(viewer, editor):
    now = timezone.now()
    visible = ContentFactory()
    window_open = ContentFactory(available_from=now - timedelta(hours=1), available_until=now + timedelta(hours=1))
    draft = ContentFactory(state=State.DRAFT)
    in_review = ContentFactory(state=State.IN_REVIEW)
    archived = ContentFactory(state=State.ARCHIVED)
    not_yet = ContentFactory(available_from=now + timedelta(days=1))
    expired = ContentFactory(available_until=now - timedelta(minutes=1))

    for client in (client_for(), client_for(viewer)):
        assert ids(client.get(URL)) == {visible.pk, window_open.pk}
        for hidden_id in [*(h.pk for h in (draft, in_review, archived, not_yet, expired)), 999999]:
            response = client.get(f"{URL}{hidden_id}/")
            assert response.status_code == 404
            assert response.json()["error"]["code"] == "not_found"
        assert client.get(f"{URL}{visible.pk}/").status_code == 200

    every = {visible.pk, window_open.pk, draft.pk, in_review.pk, archived.pk, not_yet.pk, expired.pk}
    assert ids(client_for(editor).get(URL)) == every
    assert client_for(editor).get(f"{URL}{draft.pk}/").json()["state"] == "draft"


@pytest.mark.django_db
def test_locked_for_all_but_premium_subscribers_and_no_playable_url_for_anyone(viewer, premium_viewer, editor):
    free = ContentFactory(is_premium=False, video_url="https://cdn.example.com/free.m3u8")
    premium = ContentFactory(is_premium=True, video_url="https://cdn.example.com/premium.m3u8")

    for client, premium_locked in (
        (client_for(), True),
        (client_for(viewer), True),
        (client_for(premium_viewer), False),
    ):
        body = client.get(f"{URL}{premium.pk}/").json()
        assert body["locked"] is premium_locked
        rows = {row["id"]: row for row in client.get(URL).json()["results"]}
        assert rows[premium.pk]["locked"] is premium_locked and rows[free.pk]["locked"] is False
        for row in (body, *rows.values()):
            assert "video_url" not in row and ".m3u8" not in str(row)  # players ask POST /playback/
    assert ".m3u8" not in client_for(editor).get(URL).content.decode()


@pytest.mark.django_db
def test_lapsed_premium_is_locked_again(premium_viewer):
    premium = ContentFactory(is_premium=True)
    # still premium and active, but its period has ended
    subscription_update(user=premium_viewer, plan="premium", status="active", current_period_end=timezone.now())
    premium_viewer = type(premium_viewer).objects.get(pk=premium_viewer.pk)
    body = client_for(premium_viewer).get(f"{URL}{premium.pk}/").json()
    assert body["locked"] is True


@pytest.mark.django_db
def test_filters(db):
    lakers, celtics = TeamFactory(name="Lakers"), TeamFactory(name="Celtics")
    star = PlayerFactory(team=lakers)
    live_game = GameFactory(home_team=lakers, away_team=celtics, status="live")
    full = ContentFactory(type="full_game", teams=[lakers, celtics], year=2024, tags=["finals", "nba"], game=live_game)
    clip = ContentFactory(type="clip", teams=[lakers], players=[star], year=2023, tags=["dunks"], is_premium=True)
    show = ContentFactory(type="show", year=2024, tags=["nba-today"])
    client = client_for()

    assert ids(client.get(URL, {"type": "clip"})) == {clip.pk}
    assert ids(client.get(URL, {"team": lakers.pk})) == {full.pk, clip.pk}
    assert ids(client.get(URL, {"player": star.pk})) == {clip.pk}
    assert ids(client.get(URL, {"tag": "nba"})) == {full.pk}  # exact tag, not a substring of "nba-today"
    assert ids(client.get(URL, {"tag": "NBA-Today"})) == {show.pk}
    assert ids(client.get(URL, {"year": 2024})) == {full.pk, show.pk}
    assert ids(client.get(URL, {"game_status": "live"})) == {full.pk}
    assert ids(client.get(URL, {"game": live_game.pk})) == {full.pk}
    assert ids(client.get(URL, {"premium": "true"})) == {clip.pk}
    assert ids(client.get(URL, {"type": "full_game", "year": 2023})) == set()
    today = timezone.now().date().isoformat()
    assert ids(client.get(URL, {"published_after": today})) == {full.pk, clip.pk, show.pk}


@pytest.mark.django_db
def test_search_and_ordering(db):
    a = ContentFactory(title="Buzzer beater", runtime_seconds=30)
    b = ContentFactory(title="Alley-oop of the year", description="a buzzer moment", runtime_seconds=90)
    ContentFactory(title="Press conference")
    client = client_for()
    assert ids(client.get(URL, {"search": "buzzer"})) == {a.pk, b.pk}
    rows = client.get(URL, {"ordering": "title"}).json()["results"]
    assert [r["title"] for r in rows] == ["Alley-oop of the year", "Buzzer beater", "Press conference"]
    rows = client.get(URL, {"ordering": "-runtime_seconds", "search": "buzzer"}).json()["results"]
    assert [r["id"] for r in rows] == [b.pk, a.pk]
    # Default: newest publication first.
    assert client.get(URL).json()["results"][0]["title"] == "Press conference"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"type": "podcast"}, "type"),
        ({"team": "lakers"}, "team"),
        ({"year": "twenty"}, "year"),
        ({"game_status": "halftime"}, "game_status"),
        ({"premium": "maybe"}, "premium"),
        ({"published_after": "yesterday"}, "published_after"),
        ({"ordering": "video_url"}, "ordering"),
    ],
)
def test_bad_filters_are_400_in_the_error_shape(params, field):
    response = client_for().get(URL, params)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid" and field in error["fields"]


@pytest.mark.django_db
def test_cursor_pagination_walks_every_item_once(db):
    made = {ContentFactory().pk for _ in range(7)}
    seen, url = [], f"{URL}?page_size=3"
    while url:
        body = client_for().get(url).json()
        seen += [row["id"] for row in body["results"]]
        url = body["next"]
    assert sorted(seen) == sorted(made) and len(seen) == 7
    bad = client_for().get(URL, {"cursor": "garbage"})
    assert bad.status_code == 400
    assert bad.json()["fields"]["cursor"][0]["code"] == "invalid_cursor"


@pytest.mark.django_db
def test_published_range_is_from_to_and_the_old_names_still_work_deprecated(db):
    old = ContentFactory(published_at=timezone.now() - timedelta(days=30))
    new = ContentFactory(published_at=timezone.now())
    since = (timezone.now() - timedelta(days=10)).date().isoformat()

    current = client_for().get(URL, {"published_from": since})
    alias = client_for().get(URL, {"published_after": since})
    until = client_for().get(URL, {"published_to": since})

    assert [row["id"] for row in current.json()["results"]] == [new.pk]
    assert "Deprecation" not in current
    assert [row["id"] for row in alias.json()["results"]] == [new.pk]
    assert alias["Deprecation"].startswith("@") and alias["Sunset"].endswith("GMT")
    assert 'rel="deprecation"' in alias["Link"]
    assert [row["id"] for row in until.json()["results"]] == [old.pk]


@pytest.mark.django_db
def test_staff_ordering_by_publication_date_skips_never_published(editor):
    draft = ContentFactory(state=State.DRAFT)
    published = ContentFactory()
    assert ids(client_for(editor).get(URL, {"ordering": "-published_at"})) == {published.pk}
    assert draft.pk in ids(client_for(editor).get(URL))


def _content_with_relations(n):
    for _ in range(n):
        teams = TeamFactory.create_batch(2)
        ContentFactory(teams=teams, players=[PlayerFactory(team=teams[0]), PlayerFactory(team=teams[1])])


@pytest.mark.django_db
@pytest.mark.parametrize("page_size", [2, 25])
def test_content_list_query_count_is_flat(django_assert_num_queries, premium_viewer, page_size):
    _content_with_relations(page_size)
    catalogue_generation(FAMILIES)  # the next availability edge: one query per catalogue change, not per request
    # content, teams, players, images
    with django_assert_num_queries(4):
        assert len(client_for().get(URL, {"page_size": page_size}).json()["results"]) == page_size
    # + the subscription
    with django_assert_num_queries(5):
        client_for(premium_viewer).get(URL, {"page_size": page_size, "tag": "highlights"})


@pytest.mark.django_db
def test_content_detail_query_count(django_assert_num_queries):
    _content_with_relations(1)
    item = Content.objects.get()
    catalogue_generation(FAMILIES)
    with django_assert_num_queries(4):  # the item, its teams, players, images
        assert client_for().get(f"{URL}{item.pk}/").status_code == 200


@pytest.mark.django_db
def test_hand_built_representation_matches_the_declared_schema(premium_viewer):
    from content.api.serializers import ContentSerializer

    ContentFactory(teams=[TeamFactory()], players=[PlayerFactory()])
    row = client_for(premium_viewer).get(URL).json()["results"][0]
    assert list(row) == list(ContentSerializer().fields)
    assert set(row["teams"][0]) == {"id", "name", "slug", "sport"}
    assert set(row["players"][0]) == {"id", "name", "number", "position", "team_id"}


@pytest.mark.django_db
@pytest.mark.parametrize("thumbnail", ["", "thumbnails/a.jpg"])
def test_the_card_is_the_items_short_form(django_assert_num_queries, thumbnail):
    from content.api.serializers import ContentCardSerializer, content_card

    item = ContentFactory(year=2024, is_premium=True, thumbnail=thumbnail)
    row = client_for().get(f"{URL}{item.pk}/").json()
    # Lists load only the card's columns: building it must not fetch a deferred one.
    columns = ["title", "slug", "type", "year", "runtime_seconds", "is_premium", "thumbnail"]
    loaded = Content.objects.only(*columns).get(pk=item.pk)
    with django_assert_num_queries(0):
        card = content_card(loaded)

    assert list(card) == list(ContentCardSerializer().fields)
    assert card == {key: row[key] for key in card}
    assert ContentCardSerializer(loaded).data == card


def test_a_filterset_builds_its_form_class_once():
    from content.api.filters import ContentFilter, GameFilter

    first = ContentFilter(data={"year": "2024"}).get_form_class()
    assert ContentFilter(data={"type": "clip"}).get_form_class() is first
    assert GameFilter(data={}).get_form_class() is not first
    assert set(first.base_fields) == set(ContentFilter.base_filters)
