"""What a chat message must pass before anyone else sees it: the banned terms and the chat's gates.

Banned terms are matched with RE2 (`google-re2`): linear time in the text whatever the patterns, no
backtracking on user text. A game's terms (its own and the global ones) are compiled into one
`re2.Set`, so a message is scanned once however many terms there are; each process keeps the compiled
set per game and rebuilds it when the terms' version (read with the chat rules, in the same statement)
changes.
"""

import threading
import unicodedata
from collections import OrderedDict
from dataclasses import dataclass

import re2
from django.conf import settings
from django.db.models import Q

from csn.errors import ApplicationError, PermissionDeniedError
from streaming.live.models import BannedTerm, ChatMessage, GameChat
from streaming.live.patterns import options as _options
from streaming.live.patterns import term_pattern_check, term_regex  # noqa: F401 - the services' API


@dataclass(frozen=True)
class TermHit:
    action: str  # BannedTerm.Action
    term: str


class TermMatcher:
    """Every term of a game in one RE2 set; `match` answers the strongest action (block over hold)."""

    def __init__(self, terms: list[tuple[str, bool, str]]):
        self.terms: list[tuple[str, str]] = []
        self.set = re2.Set.SearchSet(_options(settings.LIVE_CHAT_TERM_SET_MAX_MEM))
        for term, is_regex, action in terms:
            try:
                self.set.Add(term_regex(term=term, is_regex=is_regex))
            except re2.error:  # refused at save; a row written around the checks is skipped, not fatal
                continue
            self.terms.append((term, action))
        self.set.Compile()

    def match(self, text: str) -> TermHit | None:
        if not self.terms:
            return None
        hits = self.set.Match(text)
        if not hits:
            return None
        found = [self.terms[index] for index in hits]
        term, action = next(((t, a) for t, a in found if a == BannedTerm.Action.BLOCK), found[0])
        return TermHit(action=action, term=term)


_MATCHERS: OrderedDict[int, tuple[tuple, TermMatcher]] = OrderedDict()
_MATCHERS_LOCK = threading.Lock()
_MATCHERS_KEPT = 256


def term_matcher(*, game_id: int, version: tuple) -> TermMatcher:
    """The game's compiled terms, rebuilt when `version` (their count and last change) moved."""
    with _MATCHERS_LOCK:
        kept = _MATCHERS.get(game_id)
        if kept is not None and kept[0] == version:
            _MATCHERS.move_to_end(game_id)
            return kept[1]
    rows = BannedTerm.objects.filter(Q(game_id=None) | Q(game_id=game_id)).values_list("term", "is_regex", "action")
    matcher = TermMatcher(list(rows))
    with _MATCHERS_LOCK:
        _MATCHERS[game_id] = (version, matcher)
        _MATCHERS.move_to_end(game_id)
        while len(_MATCHERS) > _MATCHERS_KEPT:
            _MATCHERS.popitem(last=False)
    return matcher


# --- gates ------------------------------------------------------------------------------------------

_EMOTE_JOINERS = {"\u200d", "\ufe0e", "\ufe0f", "\u20e3"}


def is_emote_only(text: str) -> bool:
    """Only emoji (symbols, their modifiers and joiners) and spaces."""
    return any(not char.isspace() for char in text) and all(
        char.isspace() or char in _EMOTE_JOINERS or unicodedata.category(char) in ("So", "Sk") for char in text
    )


# Who follows which team lives above live (streaming.fans); it registers the question in its ready().
_team_fan_check = None


def team_fan_check_register(check) -> None:
    """`check(user_id, team_ids) -> bool`: whether the user follows one of the teams."""
    global _team_fan_check
    _team_fan_check = check


def chat_gates_check(*, user, state: dict, text: str, now) -> None:
    """The chat's gates on a poster who is not a moderator: banned, account age, premium only, fans of
    either team only, emotes only. Each refuses with its own code."""
    if state["banned"]:
        raise PermissionDeniedError("You are banned from this chat.", code="banned")
    minimum = state["chat__min_account_age_minutes"] or 0
    if minimum and user.date_joined and (now - user.date_joined).total_seconds() < minimum * 60:
        raise PermissionDeniedError(
            f"Accounts younger than {minimum} minutes cannot post in this chat.", code="account_too_new"
        )
    mode = state["chat__mode"] or GameChat.Mode.EVERYONE
    if mode == GameChat.Mode.PREMIUM:
        from accounts.models import Subscription

        subscription = Subscription.objects.filter(user_id=user.pk).first()
        if subscription is None or not subscription.is_premium_active:
            raise PermissionDeniedError("This chat is for premium subscribers only.", code="premium_only")
    elif mode == GameChat.Mode.FANS:
        teams = [state["home_team_id"], state["away_team_id"]]
        if _team_fan_check is None or not _team_fan_check(user.pk, teams):
            raise PermissionDeniedError("This chat is for fans of either team (follow one).", code="fans_only")
    elif mode == GameChat.Mode.EMOTES and not is_emote_only(text):
        raise ApplicationError("Emote-only mode: send emoji only.", code="emotes_only")


def chat_screen(*, state: dict, text: str) -> tuple[str, str]:
    """The status a new message gets from the banned terms and first-message review, and why:
    (`published`, ""), (`held`, reason); a blocking term refuses it (`message_blocked`)."""
    if state["terms_count"]:
        matcher = term_matcher(game_id=state["pk"], version=(state["terms_count"], str(state["terms_changed"])))
        hit = matcher.match(text)
        if hit is not None and hit.action == BannedTerm.Action.BLOCK:
            raise ApplicationError("This message contains a blocked term.", code="message_blocked")
        if hit is not None:
            return ChatMessage.Status.HELD, f"term: {hit.term}"[:120]
    if state["chat__first_message_review"] and not state["has_published"]:
        return ChatMessage.Status.HELD, "first message"
    return ChatMessage.Status.PUBLISHED, ""
