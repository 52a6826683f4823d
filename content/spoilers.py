"""Spoiler-safe mode: whose results a viewer must not see yet, and hiding them.

A viewer's preference (`SpoilerPreference`: off, every game, the games of chosen teams) and per-game choices
(`GameSpoiler`: watching later hides, revealed shows) decide which games are *held*. Every place that can
show a held game's result hides it explicitly: scores become `null` with `score_hidden: true`; content
that editors mark `reveals_result` (highlights, recaps) linked to a held game shows `spoiler_hidden: true`
and no title, description or thumbnail that could tell. A game not started yet has no result to hide.
Live sockets go further: they get the game as it stands at the viewer's horizon (streaming.live.aligned).
"""

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Exists, OuterRef, Q

from content.models import Content, Game, GameSpoiler, SpoilerPreference, Team
from csn.errors import ApplicationError, NotFoundError

HIDDEN_TITLE = "Hidden until you watch the game"
_ACTIVE_MEMO = "_csn_spoilers_active"
# Game statuses with a result to hide.
STARTED = {Game.Status.LIVE, Game.Status.FINAL}


@dataclass(frozen=True)
class GameFacts:
    home_team_id: int
    away_team_id: int
    status: str


class SpoilerPolicy:
    """One viewer's spoiler rules, read once (two queries, at first use) for a whole response."""

    def __init__(self, user):
        self.user = user if user is not None and user.is_authenticated else None
        self._loaded = self.user is None
        self.mode = SpoilerPreference.Mode.OFF
        self.teams: set[int] = set()
        self.choices: dict[int, str] = {}
        self._games: dict[int, GameFacts] = {}

    def load(self) -> "SpoilerPolicy":
        if self._loaded:
            return self
        self._loaded = True
        if getattr(self.user, _ACTIVE_MEMO, None) is False:  # known this request: nothing is held
            return self
        preference = SpoilerPreference.objects.filter(user=self.user).first()
        if preference is not None:
            self.mode = preference.mode
            if preference.mode == SpoilerPreference.Mode.TEAMS:
                self.teams = set(preference.teams.values_list("id", flat=True))
        self.choices = dict(GameSpoiler.objects.filter(user=self.user).values_list("game_id", "state"))
        return self

    @property
    def active(self) -> bool:
        """Whether anything may be held at all (no query for anonymous viewers)."""
        self.load()
        return self.mode != SpoilerPreference.Mode.OFF or GameSpoiler.State.WATCH_LATER in self.choices.values()

    def holds(self, game) -> bool:
        """Whether this game's result is hidden from this viewer."""
        return self._holds(game.pk, GameFacts(game.home_team_id, game.away_team_id, game.status))

    def _holds(self, game_id: int, facts: GameFacts) -> bool:
        if self.user is None or facts.status not in STARTED:
            return False
        self.load()
        choice = self.choices.get(game_id)
        if choice is not None:
            return choice == GameSpoiler.State.WATCH_LATER
        if self.mode == SpoilerPreference.Mode.ALL:
            return True
        return self.mode == SpoilerPreference.Mode.TEAMS and bool({facts.home_team_id, facts.away_team_id} & self.teams)

    def holds_game_id(self, game_id: int | None) -> bool:
        if self.user is None or game_id is None or not self.active:
            return False
        facts = self._games.get(game_id)
        if facts is None:
            row = Game.objects.filter(pk=game_id).values_list("home_team_id", "away_team_id", "status").first()
            if row is None:
                return False
            facts = self._games[game_id] = GameFacts(*row)
        return self._holds(game_id, facts)

    def hides_content(self, content: Content) -> bool:
        """Content that shows its game's result (editors' `reveals_result`), while that game is held."""
        return bool(content.reveals_result and content.game_id and self.holds_game_id(content.game_id))


def spoilers_for(user) -> SpoilerPolicy:
    return SpoilerPolicy(user)


def spoilers_active(user) -> bool:
    """Whether anything may be held from this viewer: what the catalogue cache asks before it shares an
    answer (content.api.views.CatalogueCache). One query, remembered on the user object for the request (a
    request's user is loaded anew each time), so a policy of the same request that finds nothing held
    reads nothing more; none for anonymous viewers."""
    if user is None or not user.is_authenticated:
        return False
    active = getattr(user, _ACTIVE_MEMO, None)
    if active is None:
        preference = SpoilerPreference.objects.filter(user=OuterRef("pk")).exclude(mode=SpoilerPreference.Mode.OFF)
        later = GameSpoiler.objects.filter(user=OuterRef("pk"), state=GameSpoiler.State.WATCH_LATER)
        active = get_user_model().objects.filter(Q(Exists(preference)) | Q(Exists(later)), pk=user.pk).exists()
        setattr(user, _ACTIVE_MEMO, active)
    return active


def score_fields(game, policy: SpoilerPolicy | None, home_score, away_score) -> dict:
    """`home_score`, `away_score`, `score_hidden` as every representation of a game shows them."""
    if policy is not None and policy.holds(game):
        return {"home_score": None, "away_score": None, "score_hidden": True}
    return {"home_score": home_score, "away_score": away_score, "score_hidden": False}


def content_hidden_fields(content: Content, policy: SpoilerPolicy | None) -> dict:
    """What replaces a revealing item's telling fields while its game is held (empty: nothing hidden)."""
    if policy is None or not policy.hides_content(content):
        return {"spoiler_hidden": False}
    return {"spoiler_hidden": True, "title": HIDDEN_TITLE, "description": "", "thumbnail_url": None}


def users_holding(*, game_id: int, user_ids: list[int]) -> set[int]:
    """Of these users, those for whom this game's result is held (one query, for fan-out to many)."""
    game = Game.objects.filter(pk=game_id).first()
    if game is None or game.status not in STARTED or not user_ids:
        return set()
    choices = GameSpoiler.objects.filter(user=OuterRef("pk"), game=game)
    by_preference = Q(spoiler_preference__mode=SpoilerPreference.Mode.ALL) | Q(
        spoiler_preference__mode=SpoilerPreference.Mode.TEAMS,
        spoiler_preference__teams__in=[game.home_team_id, game.away_team_id],
    )
    held = Exists(choices.filter(state=GameSpoiler.State.WATCH_LATER)) | (~Exists(choices) & by_preference)
    users = get_user_model().objects.filter(held, pk__in=user_ids)
    return set(users.values_list("pk", flat=True).distinct())


# --- writes -------------------------------------------------------------------------------------


def _forget_active(user) -> None:
    """What `spoilers_active` remembered on this user object no longer holds."""
    if hasattr(user, _ACTIVE_MEMO):
        delattr(user, _ACTIVE_MEMO)


@transaction.atomic
def spoiler_preference_set(*, user, mode: str, team_ids: list[int] | None = None) -> SpoilerPreference:
    """The viewer's mode; `teams` only with mode `teams` (every id must be a team)."""
    _forget_active(user)
    team_ids = sorted(set(team_ids or []))
    if mode == SpoilerPreference.Mode.TEAMS and not team_ids:
        message = "Choose at least one team."
        raise ApplicationError(
            message, code="teams_required", fields={"teams": [{"code": "teams_required", "message": message}]}
        )
    teams = list(Team.objects.filter(pk__in=team_ids)) if mode == SpoilerPreference.Mode.TEAMS else []
    if len(teams) != (len(team_ids) if mode == SpoilerPreference.Mode.TEAMS else 0):
        message = "Unknown team."
        raise ApplicationError(
            message, code="unknown_team", fields={"teams": [{"code": "unknown_team", "message": message}]}
        )
    preference, _ = SpoilerPreference.objects.update_or_create(user=user, defaults={"mode": mode})
    preference.teams.set(teams)
    return preference


@transaction.atomic
def game_spoiler_set(*, user, game_id: int, state: str | None) -> GameSpoiler | None:
    """Watching later (hide), revealed (show), or None (back to the preference)."""
    if not Game.objects.filter(pk=game_id).exists():
        raise NotFoundError("No such game.", code="not_found")
    _forget_active(user)
    if state is None:
        GameSpoiler.objects.filter(user=user, game_id=game_id).delete()
        return None
    choice, _ = GameSpoiler.objects.update_or_create(user=user, game_id=game_id, defaults={"state": state})
    return choice
