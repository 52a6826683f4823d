"""The catalogue's facts added to analytics events at delivery (registered in ContentConfig.ready())."""

from collections.abc import Sequence

from analytics.services.enrichment import EventFacts
from content.models import Content


def _content_id(properties) -> int | None:
    """The item an event is about: video events say `video_id`, catalogue events `content_id`."""
    for key in ("video_id", "content_id"):
        value = properties.get(key)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    return None


def content_facts(events: Sequence[EventFacts]) -> list[dict]:
    """Title, type, year, tags and premium flag of each event's item: one query for the batch."""
    ids = [_content_id(event.properties) for event in events]
    wanted = {content_id for content_id in ids if content_id is not None}
    contents = {}
    if wanted:
        contents = {
            c["id"]: c
            for c in Content.objects.filter(pk__in=wanted).values("id", "title", "type", "year", "tags", "is_premium")
        }
    facts = []
    for content_id in ids:
        content = contents.get(content_id)
        facts.append(
            {}
            if content is None
            else {
                "content_title": content["title"],
                "content_type": content["type"],
                "content_year": content["year"],
                "content_tags": content["tags"],
                "content_is_premium": content["is_premium"],
            }
        )
    return facts
