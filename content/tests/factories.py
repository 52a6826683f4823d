import factory
from django.utils import timezone

from content.models import Content, Game, MediaAsset, Player, Sport, Team


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
    position = "Guard"


class GameFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Game

    home_team = factory.SubFactory(TeamFactory)
    away_team = factory.SubFactory(TeamFactory)
    sport = Sport.BASKETBALL
    venue = "Main Arena"
    starts_at = factory.LazyFunction(timezone.now)


class ContentFactory(factory.django.DjangoModelFactory):
    """Rows straight in a given state (fixtures for reads); writes under test go through the services."""

    class Meta:
        model = Content
        skip_postgeneration_save = True

    title = factory.Sequence(lambda n: f"Item {n}")
    slug = factory.Sequence(lambda n: f"item-{n}")
    type = Content.Type.HIGHLIGHT
    year = 2025
    runtime_seconds = 300
    tags = factory.LazyFunction(lambda: ["highlights"])
    video_url = factory.Sequence(lambda n: f"https://cdn.example.com/v/{n}/master.m3u8")
    state = Content.State.PUBLISHED
    published_at = factory.LazyAttribute(lambda o: timezone.now() if o.state == Content.State.PUBLISHED else None)

    @factory.post_generation
    def teams(self, create, extracted, **kwargs):
        if create and extracted:
            self.teams.set(extracted)

    @factory.post_generation
    def players(self, create, extracted, **kwargs):
        if create and extracted:
            self.players.set(extracted)


class MediaAssetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MediaAsset

    original_name = "clip.mp4"
    content_type = "video/mp4"
    size_bytes = 10
