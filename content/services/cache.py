"""The catalogue's cache generation: versioned keys that change whenever what a catalogue answer shows
may have changed.

Each family of the catalogue (content, teams, players, games) has a version number in the cache. A
cached answer's key carries the versions of the families it shows (`catalogue_generation`), so a change
makes every older answer unreachable at once, in every process, without finding and deleting them;
the old entries expire on their own (`CATALOGUE_CACHE_SECONDS`).

A version moves (`catalogue_changed`) when a row is saved or deleted (signals, connected in
`ContentConfig.ready`; a media asset counts as content: items show their images), when the workflow
moves an item (an UPDATE, no signal), when an image's renditions are made, and for the few other
UPDATEs of these tables. It moves twice: at once, and again after the transaction commits, so no
answer read from the database before the commit outlives it under the new version.

Time changes answers too: an item enters or leaves the catalogue when its availability window opens
or closes. The content family's generation therefore also carries the next such edge (one query per
content version, cached with it): when the clock passes it, the generation, and every key, changes.

A cache that fails is passed by: the answer is computed, not cached (the versions cannot move while
it is down, so entries written before an outage can be served for at most CATALOGUE_CACHE_SECONDS
after it)."""

import logging
import time

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Min, Q
from django.utils import timezone

from content.models import Content

logger = logging.getLogger(__name__)

CONTENT = "content"
TEAMS = "teams"
PLAYERS = "players"
GAMES = "games"
FAMILIES = (CONTENT, TEAMS, PLAYERS, GAMES)
EDGE_KEY = "catalogue:edge"


def _version_key(family: str) -> str:
    return f"catalogue:v:{family}"


def catalogue_generation(families) -> str:
    """The versions of `families` (and, with content, its next availability edge) as one key part.
    One cache round trip; one more query when the content version is new or its edge has passed."""
    return generation_of(families, cache.get_many(generation_keys(families)))


def generation_keys(families) -> list[str]:
    """The cache keys `catalogue_generation` reads (to read them with others in one round trip)."""
    keys = [_version_key(family) for family in families]
    return [*keys, EDGE_KEY] if CONTENT in families else keys


def generation_of(families, got: dict) -> str:
    """`catalogue_generation` from the values of `generation_keys(families)` as read (`got`)."""
    keys = [_version_key(family) for family in families]
    versions = {family: got.get(key) or _version_start(key) for family, key in zip(families, keys, strict=True)}
    parts = [f"{family[0]}{versions[family]}" for family in families]
    if CONTENT in families:
        parts.append(f"e{_edge(got.get(EDGE_KEY), versions[CONTENT])}")
    return ".".join(parts)


def _version_start(key: str) -> int:
    """A version for a family that has none in the cache (first use, or evicted): the clock in
    nanoseconds, a number no earlier version of it reached."""
    start = time.time_ns()
    cache.add(key, start, timeout=None)
    return cache.get(key) or start


def _edge(cached, content_version: int) -> str:
    """The next time an item enters or leaves the catalogue, as a timestamp ("-" when none is due),
    for this content version."""
    now = timezone.now()
    if cached is not None:
        version, edge = cached
        if version == content_version and (edge is None or edge > now.timestamp()):
            return "-" if edge is None else f"{edge:.6f}"
    edge = next_availability_edge(now)
    edge = None if edge is None else edge.timestamp()
    cache.set(EDGE_KEY, (content_version, edge), timeout=settings.CATALOGUE_CACHE_SECONDS)
    return "-" if edge is None else f"{edge:.6f}"


def next_availability_edge(now):
    """The soonest `available_from` or `available_until` after `now` among published items (None: none)."""
    edges = Content.objects.filter(state=Content.State.PUBLISHED).aggregate(
        opens=Min("available_from", filter=Q(available_from__gt=now)),
        closes=Min("available_until", filter=Q(available_until__gt=now)),
    )
    due = [edge for edge in edges.values() if edge is not None]
    return min(due) if due else None


def catalogue_changed(*families: str) -> None:
    """What `families` show changed: every cached answer showing them is stale, now and after commit."""
    _bump(families)
    if transaction.get_connection().in_atomic_block:
        transaction.on_commit(lambda: _bump(families))


def _bump(families) -> None:
    for family in families:
        key = _version_key(family)
        try:
            try:
                cache.incr(key)
            except ValueError:  # no version yet (or evicted): any fresh one will do
                _version_start(key)
        except Exception:
            logger.warning("catalogue cache: version of %s not moved (cache unavailable)", family, exc_info=True)


# --- signal receivers (ContentConfig.ready) ---------------------------------------------------------


def families_of(sender) -> tuple[str, ...]:
    """The cache families a catalogue model (or link table) belongs to; () for any other."""
    from content.models import Game, MediaAsset, Player, Team

    return {
        Content: (CONTENT,),
        MediaAsset: (CONTENT,),  # an item shows its image's renditions (content.selectors.content_images)
        Team: (TEAMS,),
        Player: (PLAYERS,),
        Game: (GAMES,),
        Content.teams.through: (CONTENT,),
        Content.players.through: (CONTENT,),
    }.get(sender, ())


def row_changed(sender, **kwargs) -> None:
    """post_save, post_delete, m2m_changed of a catalogue model."""
    if kwargs.get("action", "post_").startswith("post_") and (families := families_of(sender)):
        catalogue_changed(*families)
