import factory
from django.contrib.auth.models import Group
from django.utils import timezone

from accounts.tests.factories import UserFactory
from content.models import Game, Team


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team

    name = factory.Sequence(lambda n: f"Team {n}")
    slug = factory.Sequence(lambda n: f"team-{n}")
    sport = "basketball"


class GameFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Game

    home_team = factory.SubFactory(TeamFactory)
    away_team = factory.SubFactory(TeamFactory)
    sport = "basketball"
    starts_at = factory.LazyFunction(timezone.now)
    status = Game.Status.LIVE


def user_in_group(group: str, **kwargs):
    user = UserFactory(**kwargs)
    user.groups.add(Group.objects.get_or_create(name=group)[0])
    return user


def scorekeeper(**kwargs):
    return user_in_group("Scorekeepers", **kwargs)


def moderator(**kwargs):
    return user_in_group("Moderators", **kwargs)
