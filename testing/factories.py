"""Factories for every app's tests. Rows straight in a given state (fixtures for reads); writes under
test go through the services. Users are made through the registration service, so they have every
row a real one has."""

import factory
from django.contrib.auth.models import Group
from django.utils import timezone

from accounts import services as account_services
from accounts.models import Entitlement, Product, ProductRule, User
from analytics.models import OutboxEvent
from content.models import Content, Game, MediaAsset, Player, Sport, Team


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    display_name = factory.Sequence(lambda n: f"Viewer {n}")
    password = "correct horse battery staple"

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return account_services.user_create(
            email=kwargs["email"],
            password=kwargs["password"],
            display_name=kwargs["display_name"],
            is_staff=kwargs.pop("is_staff", False),
        )


def member_of(group: str, **kwargs) -> User:
    """A user in one of the role groups the migrations create (Editors, Publishers, Scorekeepers...)."""
    user = UserFactory(**kwargs)
    user.groups.add(Group.objects.get_or_create(name=group)[0])
    return user


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


class LiveGameFactory(GameFactory):
    """A game in progress: chat is open, scores move."""

    status = Game.Status.LIVE


class ContentFactory(factory.django.DjangoModelFactory):
    """Published and available unless told otherwise; ten minutes long."""

    class Meta:
        model = Content
        skip_postgeneration_save = True

    title = factory.Sequence(lambda n: f"Item {n}")
    slug = factory.Sequence(lambda n: f"item-{n}")
    type = Content.Type.HIGHLIGHT
    year = 2025
    runtime_seconds = 600
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


class OutboxEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OutboxEvent

    name = "page_view"
    distinct_id = "1"
    properties = factory.LazyFunction(lambda: {"path": "/"})
    timestamp = factory.LazyFunction(timezone.now)
    next_attempt_at = factory.LazyFunction(timezone.now)


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    code = factory.Sequence(lambda n: f"product-{n}")
    name = factory.Sequence(lambda n: f"Product {n}")
    kind = Product.Kind.LEAGUE_PASS
    max_streams = 1


def product_with(*rules: dict, **fields) -> Product:
    """A product with these rules (each a dict of ProductRule criteria; `{}` unlocks everything)."""
    product = ProductFactory(**fields)
    for rule in rules:
        ProductRule.objects.create(product=product, **rule)
    return product


def holding(user, *products: Product, ends_at=None) -> User:
    """The user holds these products (granted by staff), reloaded as a request would load them."""
    for product in products:
        Entitlement.objects.create(user=user, product=product, source=Entitlement.Source.ADMIN, ends_at=ends_at)
    return User.objects.get(pk=user.pk)
