"""Properties added to events at delivery, registered by the apps that own the data.

Analytics knows nothing of content or accounts: each app registers an enricher in its
`AppConfig.ready()`. An enricher gets the whole batch and returns one dict of extra properties per
event, in order ({} for none); it reads what it needs in one query per batch, never one per event.

Facts about what an event is about (`ITEM`) come before facts about who did it (`USER`) in the
delivered properties, whatever order the apps were loaded in; within a subject, registration order.
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum


@dataclass(frozen=True)
class EventFacts:
    """What an enricher sees of a queued event."""

    distinct_id: str
    properties: Mapping


class Subject(StrEnum):
    ITEM = "item"  # the thing the event is about, named in its properties
    USER = "user"  # the user behind its distinct id


Enricher = Callable[[Sequence[EventFacts]], list[dict]]

_enrichers: dict[Subject, dict[str, Enricher]] = {subject: {} for subject in Subject}


def enricher_register(enricher: Enricher, *, subject: Subject) -> None:
    """Add `enricher` to every delivery. Registering the same function again replaces it, so a
    repeated `ready()` does not enrich twice."""
    _enrichers[subject][f"{enricher.__module__}.{enricher.__qualname__}"] = enricher


def batch_extra_properties(events: Sequence[EventFacts]) -> list[dict]:
    """The extra properties of each event of a batch: every registered enricher, called once."""
    extra: list[dict] = [{} for _ in events]
    for subject in Subject:
        for enricher in _enrichers[subject].values():
            for properties, added in zip(extra, enricher(events), strict=True):
                properties.update(added)
    return extra
