"""The catalogue's details as constant statements (csn.statements): the same rows as their querysets."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from content import selectors
from content.models import Content, Game
from csn.errors import NotFoundError
from testing.factories import ContentFactory, GameFactory


def _fields(item) -> dict:
    return {field.attname: getattr(item, field.attname) for field in type(item)._meta.concrete_fields}


def _same(made, expected) -> None:
    assert [_fields(x) for x in made] == [_fields(x) for x in expected]
    assert all(x._state.db == "default" and not x._state.adding for x in made)


@pytest.fixture
def items(db):
    now = timezone.now()
    game = GameFactory()
    return game, {
        "shown": ContentFactory(game=game, published_at=now - timedelta(hours=2)),
        "newer": ContentFactory(
            game=game, published_at=now - timedelta(hours=1), available_until=now + timedelta(hours=1)
        ),
        "draft": ContentFactory(game=game, state=Content.State.DRAFT),
        "later": ContentFactory(game=game, available_from=now + timedelta(minutes=30)),
        "gone": ContentFactory(game=game, available_until=now - timedelta(minutes=1)),
        "no game": ContentFactory(),
    }


@pytest.mark.parametrize("who", ["anonymous", "viewer", "editor"])
def test_an_item_is_found_as_its_queryset_finds_it(items, who, request):
    user = AnonymousUser() if who == "anonymous" else request.getfixturevalue(who)
    _, made = items
    for item in made.values():
        expected = selectors.content_visible_to(user=user).select_related("game").filter(pk=item.pk).first()
        if expected is None:
            with pytest.raises(NotFoundError):
                selectors.access_content(user=user, content_id=item.pk)
            continue
        found = selectors.access_content(user=user, content_id=item.pk)
        _same([found], [expected])
        assert found.game == expected.game and (found.game is None or _fields(found.game) == _fields(expected.game))
    with pytest.raises(NotFoundError):
        selectors.access_content(user=user, content_id=987654321)


@pytest.mark.parametrize("who", ["anonymous", "viewer", "editor"])
def test_a_games_items_are_its_querysets(items, who, request):
    user = AnonymousUser() if who == "anonymous" else request.getfixturevalue(who)
    game, _ = items
    expected = list(
        selectors.content_visible_to(user=user)
        .filter(game=game)
        .order_by("-published_at", "-id")
        .select_related("game")
    )
    found = selectors.game_content_visible_to(user=user, game=game)
    _same(found, expected)
    assert all(_fields(x.game) == _fields(game) for x in found)
    assert len(found) == (6 - 1 if who == "editor" else 2)


def test_the_time_bound_is_the_applications_clock(items, monkeypatch):
    """Availability edges follow timezone.now(), as the lists do (tests and the cache move it by hand)."""
    game, made = items
    real = timezone.now
    monkeypatch.setattr(timezone, "now", lambda: real() + timedelta(hours=1, minutes=30))
    shown = {item.pk for item in selectors.game_content_visible_to(user=AnonymousUser(), game=game)}
    assert shown == {made["shown"].pk, made["later"].pk}
    assert selectors.access_content(user=AnonymousUser(), content_id=made["later"].pk).pk == made["later"].pk
    with pytest.raises(NotFoundError):
        selectors.access_content(user=AnonymousUser(), content_id=made["newer"].pk)


@pytest.mark.django_db
def test_a_game_with_its_teams_is_its_querysets():
    game = GameFactory(status="live", home_score=3)
    found = selectors.game_with_teams(game.pk)
    expected = Game.objects.select_related("home_team", "away_team").get(pk=game.pk)
    _same([found], [expected])
    assert _fields(found.home_team) == _fields(expected.home_team)
    assert _fields(found.away_team) == _fields(expected.away_team)
    assert selectors.game_with_teams(987654321) is None
