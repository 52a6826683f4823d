"""Reads of the catalogue that several callers share."""

from django.db.models import Q, QuerySet
from django.utils import timezone

from content.models import Content


def content_available_q(now=None) -> Q:
    """Published and inside the availability window: what a viewer may see."""
    now = now or timezone.now()
    return (
        Q(state=Content.State.PUBLISHED)
        & (Q(available_from__isnull=True) | Q(available_from__lte=now))
        & (Q(available_until__isnull=True) | Q(available_until__gt=now))
    )


def content_visible_to(*, user) -> QuerySet[Content]:
    """Staff see every item; everyone else only available ones (others do not exist for them)."""
    if user is not None and user.is_authenticated and user.is_staff:
        return Content.objects.all()
    return Content.objects.filter(content_available_q())


def access_content(*, user, content_id: int) -> Content | None:
    """The item if this user may see it, else None (callers answer 404)."""
    return content_visible_to(user=user).filter(pk=content_id).first()
