"""The user's plan added to analytics events at delivery (registered in AccountsConfig.ready())."""

from collections.abc import Sequence

from accounts.models import Subscription
from analytics.services.enrichment import EventFacts


def user_plan(events: Sequence[EventFacts]) -> list[dict]:
    """`user_plan` of each event whose distinct id is a user with a subscription: one query for the
    batch. Premium only while the subscription is active."""
    user_ids = {int(event.distinct_id) for event in events if event.distinct_id.isdigit()}
    plans = {}
    if user_ids:
        for sub in Subscription.objects.filter(user_id__in=user_ids):
            plans[str(sub.user_id)] = Subscription.Plan.PREMIUM if sub.is_premium_active else Subscription.Plan.FREE
    return [{"user_plan": plans[event.distinct_id]} if event.distinct_id in plans else {} for event in events]
