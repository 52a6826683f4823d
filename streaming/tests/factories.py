"""Catalogue rows for viewer-state tests. Published and available unless told otherwise."""

from datetime import timedelta

from django.contrib.auth.models import Group
from django.utils import timezone

from accounts.tests.factories import UserFactory
from content.models import Game
from content.tests import factories as catalogue
from content.tests.factories import PlayerFactory, TeamFactory  # noqa: F401  (re-exported for these tests)
from streaming.models import WatchProgress


class GameFactory(catalogue.GameFactory):
    # Live by default: most live tests need a game in progress (chat is open, scores move).
    status = Game.Status.LIVE


class ContentFactory(catalogue.ContentFactory):
    """Published and available unless told otherwise; ten minutes long."""

    runtime_seconds = 600


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
