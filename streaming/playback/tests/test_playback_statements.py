"""Playback authorization's hot reads are constant statements (csn.statements.Statement), compiled once:
each answers what its queryset answers (the item with its game, manifest and blackout flag; its teams),
and a playback is a fixed handful of queries whatever the user holds."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from content.models import Content, MediaAsset
from streaming.playback.models import Blackout
from streaming.playback.services import content_for_playback, content_query, content_teams
from testing.factories import (
    ContentFactory,
    GameFactory,
    MediaAssetFactory,
    TeamFactory,
    UserFactory,
    holding,
    product_with,
)

pytestmark = pytest.mark.django_db
HLS = "application/vnd.apple.mpegurl"


def _shape(item: Content | None):
    if item is None:
        return None
    game = (item.game.pk, item.game.sport, item.game.home_team_id, item.game.status) if item.game_id else None
    return (
        item.pk,
        item.state,
        item.is_premium,
        item.type,
        item.video_url,
        item.available_from,
        item.available_until,
        item.manifest_file,
        item.blacked_out,
        game,
    )


def test_the_item_statement_answers_what_its_queryset_answers():
    game = GameFactory()
    blacked = GameFactory()
    Blackout.objects.create(game=blacked, countries=["CA"])
    now = timezone.now()
    items = [
        ContentFactory(video_url="https://cdn.example.com/a.m3u8"),
        ContentFactory(game=game, is_premium=True, available_until=now + timedelta(days=1)),
        ContentFactory(game=blacked, available_from=now - timedelta(days=1)),
        ContentFactory(state=Content.State.DRAFT),
    ]
    MediaAssetFactory(content=items[1], status=MediaAsset.Status.READY, content_type=HLS, file="media/old.m3u8")
    MediaAssetFactory(content=items[1], status=MediaAsset.Status.READY, content_type=HLS, file="media/new.m3u8")
    MediaAssetFactory(content=items[1], status=MediaAsset.Status.PENDING, content_type=HLS, file="media/no.m3u8")
    MediaAssetFactory(content=items[0], status=MediaAsset.Status.READY, content_type="video/mp4", file="media/a.mp4")

    for staff in (False, True):
        for item in [*items, None]:
            pk = item.pk if item else 999_999
            expected = content_query(content_id=pk, staff=staff).first()
            assert _shape(content_for_playback(content_id=pk, staff=staff)) == _shape(expected), (staff, pk)
    assert content_for_playback(content_id=items[3].pk, staff=False) is None  # a draft: staff only
    assert content_for_playback(content_id=items[1].pk, staff=False).manifest_file == "media/new.m3u8"
    assert content_for_playback(content_id=items[2].pk, staff=False).blacked_out is True
    assert content_for_playback(content_id=items[1].pk, staff=False).blacked_out is False


def test_the_teams_statement_answers_the_items_teams():
    lakers, rangers = TeamFactory(sport="basketball"), TeamFactory(sport="hockey")
    item = ContentFactory(teams=[lakers, rangers])
    expected = [{"id": t.pk, "sport": t.sport} for t in item.teams.all()]
    assert sorted(content_teams(content_id=item.pk), key=lambda t: t["id"]) == sorted(expected, key=lambda t: t["id"])
    assert content_teams(content_id=ContentFactory().pk) == []


def _play(user, item):
    client = APIClient()
    client.force_authenticate(user)
    return client.post("/api/v1/playback/", {"content_id": item.pk}, format="json")


@pytest.mark.parametrize("holds", ["nothing", "everything", "a_team_pass", "two_passes"])
def test_a_playback_is_a_fixed_handful_of_queries(holds, django_assert_num_queries):
    team = TeamFactory(sport="hockey")
    free, premium = ContentFactory(teams=[team]), ContentFactory(is_premium=True, teams=[team])
    user = UserFactory()
    if holds == "everything":
        user = holding(user, product_with({}, max_streams=5))
    elif holds == "a_team_pass":
        user = holding(user, product_with({"team_id": team.pk}, max_streams=5))
    elif holds == "two_passes":  # the stream limit per product: still one count while under the limit
        user = holding(user, product_with({"team_id": team.pk}, max_streams=5), product_with({"sport": "hockey"}))
    # grants, item, savepoint, the user's row locked (FOR UPDATE where the engine has it), open sessions,
    # insert, savepoint release
    base = 7
    with django_assert_num_queries(base):
        assert _play(user, free).status_code == 201
    if holds == "nothing":
        # grants, item, teams, the products that would unlock it
        with django_assert_num_queries(4):
            assert _play(user, premium).json()["code"] == "not_entitled"
        return
    # a rule unlocking everything needs no facts; another needs the item's teams
    with django_assert_num_queries(base + (1 if holds in ("a_team_pass", "two_passes") else 0)):
        assert _play(user, premium).status_code == 201
