"""Who may edit an item and which workflow moves a user may make in its current state; which items
and live streams a viewer's products unlock."""

import hashlib
from dataclasses import dataclass

from accounts.entitlements import UNLOCKS_EVERYTHING, Grants, Rule, products_matching
from accounts.models import LIVE_STREAM, Product
from content.models import Content, Game
from content.services.workflow import TRANSITIONS, Transition
from csn.errors import ApplicationError, PermissionDeniedError

State = Content.State


def content_edit_refusal(*, user, content: Content) -> ApplicationError | None:
    """Why this user may not edit this item now (None: they may). Drafts are the editors'; items under
    review or on air are the publishers'; archived items are read-only."""
    if not user.has_perm("content.change_content"):
        return PermissionDeniedError("You may not edit content.", code="not_allowed")
    if content.state == State.ARCHIVED:
        return ApplicationError("Archived items are read-only.", code="read_only")
    if content.state != State.DRAFT and not user.has_perm("content.publish_content"):
        return PermissionDeniedError("Only publishers may edit items under review or published.", code="not_allowed")
    return None


def content_transitions_for(*, user, content: Content) -> list[Transition]:
    """The transitions this user may apply to this item in its current state (for buttons)."""
    return [t for t in TRANSITIONS.values() if content.state in t.sources and user.has_perm(t.permission)]


# --- viewing rights: which premium items and live streams a user's products unlock -----------------
# Free items are open to everyone; a premium item, and every game's live stream, need a product whose
# rules match it (accounts.models.ProductRule). `locked` in the catalogue and playback both ask here.


@dataclass(frozen=True)
class Facts:
    """What rules match against: an item's (or a live stream's) sports, teams, game and type."""

    sports: frozenset[str]
    team_ids: frozenset[int]
    game_id: int | None
    type: str


def content_facts(content: Content, teams: list[dict] | None = None) -> Facts:
    """An item's facts, from its game (select_related) and teams: their brief representations when given
    (`content.selectors.content_relations`), else `content.teams`."""
    pairs = (
        [(t["id"], t["sport"]) for t in teams] if teams is not None else [(t.pk, t.sport) for t in content.teams.all()]
    )
    sports = {sport for _, sport in pairs}
    team_ids = {pk for pk, _ in pairs}
    game = content.game if content.game_id else None
    if game is not None:
        sports.add(game.sport)
        team_ids.update((game.home_team_id, game.away_team_id))
    return Facts(frozenset(sports), frozenset(team_ids), content.game_id, content.type)


def game_facts(game: Game) -> Facts:
    """A game's live stream."""
    return Facts(frozenset({game.sport}), frozenset({game.home_team_id, game.away_team_id}), game.pk, LIVE_STREAM)


def rule_matches(rule: Rule, facts: Facts) -> bool:
    sport, team_id, game_id, content_type = rule
    return (
        (not sport or sport in facts.sports)
        and (team_id is None or team_id in facts.team_ids)
        and (game_id is None or game_id == facts.game_id)
        and (not content_type or content_type == facts.type)
    )


def unlocked(grants: Grants, facts: Facts) -> bool:
    return any(rule_matches(rule, facts) for rule in grants.rules)


def content_locked(*, content: Content, grants: Grants, teams: list[dict] | None = None) -> bool:
    """`locked` in the catalogue: a premium item none of the user's products unlocks."""
    if not content.is_premium:
        return False
    if not grants.rules:  # anonymous, or no product: every premium item (no facts to gather)
        return True
    return not unlocked(grants, content_facts(content, teams))


def products_unlocking(facts: Facts) -> list[Product]:
    """The products on sale that would unlock these facts (for a `not_entitled` refusal): the same
    matching as `rule_matches`, in SQL."""
    return products_matching(
        sports=facts.sports, team_ids=facts.team_ids, game_id=facts.game_id, content_type=facts.type
    )


def entitlement_variant(grants: Grants) -> str:
    """A short key that is equal for two users exactly when every `locked` is the same for both: for
    caches of catalogue answers per variant. `none` (anonymous or no product), `all` (a rule unlocking
    everything, the premium plan) or a digest of the rules."""
    if not grants.rules:
        return "none"
    if UNLOCKS_EVERYTHING in grants.rules:
        return "all"
    return hashlib.sha256(repr(sorted(grants.rules, key=repr)).encode()).hexdigest()[:16]
