import factory
from django.utils import timezone

from analytics.models import OutboxEvent
from content.models import Content


class OutboxEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OutboxEvent

    name = "page_view"
    distinct_id = "1"
    properties = factory.LazyFunction(lambda: {"path": "/"})
    timestamp = factory.LazyFunction(timezone.now)
    next_attempt_at = factory.LazyFunction(timezone.now)


class ContentFactory(factory.django.DjangoModelFactory):
    """A published item (content has no factory of its own on this branch)."""

    class Meta:
        model = Content

    title = factory.Sequence(lambda n: f"Final highlights {n}")
    slug = factory.Sequence(lambda n: f"final-highlights-{n}")
    type = Content.Type.HIGHLIGHT
    year = 2026
    tags = factory.LazyFunction(lambda: ["basketball", "final"])
    is_premium = True
    state = Content.State.PUBLISHED
