"""Catalogue rows for viewer-state tests. Published and available unless told otherwise."""

from datetime import timedelta

import factory
from django.contrib.auth.models import Group
from django.utils import timezone

from accounts.tests.factories import UserFactory
from content.models import Content, Game, Player, Sport, Team
from streaming.models import WatchProgress


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team

    name = factory.Sequence(lambda n: f"Team {n}")
    slug = factory.Sequence(lambda n: f"team-{n}")
    sport = Sport.BASKETBALL


class PlayerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Player

    team = factory.SubFactory(TeamFactory)
    name = factory.Sequence(lambda n: f"Player {n}")
    number = factory.Sequence(lambda n: n % 99)


class GameFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Game

    home_team = factory.SubFactory(TeamFactory)
    away_team = factory.SubFactory(TeamFactory)
    sport = Sport.BASKETBALL
    # Live by default: most live tests need a game in progress (chat is open, scores move).
    starts_at = factory.LazyFunction(timezone.now)
    status = Game.Status.LIVE


class ContentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Content
        skip_postgeneration_save = True

    title = factory.Sequence(lambda n: f"Content {n}")
    slug = factory.Sequence(lambda n: f"content-{n}")
    type = Content.Type.HIGHLIGHT
    runtime_seconds = 600
    state = Content.State.PUBLISHED
    published_at = factory.LazyFunction(timezone.now)

    @factory.post_generation
    def teams(self, create, extracted, **kwargs):
        if create and extracted:
            self.teams.set(extracted)

    @factory.post_generation
    def players(self, create, extracted, **kwargs):
        if create and extracted:
            self.players.set(extracted)


def watched(user, content, *, percent=30.0, minutes_ago=0):
    """A progress row as the upsert would leave it, watched `minutes_ago`."""
    at = timezone.now() - timedelta(minutes=minutes_ago)
    return WatchProgress.objects.create(
        user=user,
        content=content,
        position_seconds=percent * 10,
        duration_seconds=1000.0,
        completion_percentage=percent,
        completed=percent >= 90,
        recorded_at=at,
        completed_at=at if percent >= 90 else None,
        first_watched_at=at,
        last_watched_at=at,
    )


def user_in_group(group: str, **kwargs):
    user = UserFactory(**kwargs)
    user.groups.add(Group.objects.get_or_create(name=group)[0])
    return user


def scorekeeper(**kwargs):
    return user_in_group("Scorekeepers", **kwargs)


def moderator(**kwargs):
    return user_in_group("Moderators", **kwargs)
