"""Banned terms: words and RE2 regexes, block or hold, global and per game, refused when they do not
compile or are too large, a thousand of them well under a millisecond per message."""

import time

import pytest
from asgiref.sync import async_to_sync

from csn.errors import ApplicationError
from streaming.live.models import BannedTerm, ChatMessage
from streaming.live.services import chat as chat_services
from streaming.live.services import filters, moderation
from streaming.live.tests.factories import moderator
from streaming.tests.live import Client, error_code, token_for
from testing.factories import LiveGameFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def _term(term, *, is_regex=False, action=BannedTerm.Action.BLOCK, game=None) -> BannedTerm:
    return moderation.banned_term_save(
        actor=moderator(), term=BannedTerm(term=term, is_regex=is_regex, action=action, game=game)
    )


def test_words_match_whole_words_ignoring_case_and_regexes_as_written():
    matcher = filters.TermMatcher(
        [("darn", False, "block"), (r"fr[e3]+ ?tickets", True, "hold"), ("c++", False, "hold")]
    )
    assert matcher.match("well DARN it").term == "darn"
    assert matcher.match("darned") is None  # a word is a whole word
    assert matcher.match("get FREE3 tickets here").action == "hold"
    assert matcher.match("I code c++ daily").term == "c++"  # escaped, not a regex
    assert matcher.match("a fine message") is None


def test_block_wins_over_hold_when_both_match():
    matcher = filters.TermMatcher([("spam", False, "hold"), ("scam", False, "block")])
    assert matcher.match("spam scam").action == "block"


def test_a_blocked_message_is_refused_stored_nowhere_and_reaches_no_socket():
    game, author = LiveGameFactory(), UserFactory()
    _term("darn")
    token = token_for(author)

    async def scenario():
        reader = await Client().connect()
        await reader.request({"type": "subscribe", "topic": f"chat:{game.pk}"})
        writer = await Client().connect()
        await writer.request({"type": "auth", "token": token})
        reply = await writer.request({"type": "chat.send", "game": game.pk, "text": "Darn refs", "ref": "x"})
        assert (reply["type"], reply["code"], reply["ref"]) == ("error", "message_blocked", "x")
        assert await reader.nothing()
        await reader.close()
        await writer.close()

    async_to_sync(scenario)()
    assert ChatMessage.objects.count() == 0


def test_terms_are_global_or_per_game_and_changes_apply_to_the_next_message():
    game, other, author = LiveGameFactory(), LiveGameFactory(), UserFactory()
    local = _term("offside", game=game)
    assert (
        error_code(chat_services.chat_message_post, user=author, game_id=game.pk, text="offside!") == "message_blocked"
    )
    assert chat_services.chat_message_post(user=author, game_id=other.pk, text="offside!").status == "published"
    local.action = BannedTerm.Action.HOLD
    moderation.banned_term_save(actor=moderator(), term=local)
    assert chat_services.chat_message_post(user=author, game_id=game.pk, text="offside?").status == "held"
    moderation.banned_terms_delete(actor=moderator(), terms=[local])
    assert chat_services.chat_message_post(user=author, game_id=game.pk, text="offside.").status == "published"
    _term("offside")  # global
    assert (
        error_code(chat_services.chat_message_post, user=author, game_id=other.pk, text="offside") == "message_blocked"
    )


def test_moderators_and_staff_are_not_filtered():
    game = LiveGameFactory()
    _term("darn")
    assert chat_services.chat_message_post(user=moderator(), game_id=game.pk, text="darn").status == "published"


@pytest.mark.parametrize(
    ("term", "why"),
    [
        ("(unclosed", "does not compile"),
        (r"(a)\1", "does not compile"),  # backreferences would need backtracking: RE2 refuses them
        ("(?=ahead)", "does not compile"),
        ("a{2000}", "does not compile"),
        ("[a-z]{1000}" * 10, "too large"),
        ("x" * 201, "at most 200"),
        ("   ", "empty"),
    ],
)
def test_a_regex_that_does_not_compile_or_is_too_large_is_refused_at_save(term, why):
    with pytest.raises(ApplicationError) as info:
        _term(term, is_regex=True)
    assert info.value.code == "invalid_term" and why in info.value.message
    assert BannedTerm.objects.count() == 0


def test_the_admin_form_says_why_a_regex_is_refused(client):
    client.force_login(UserFactory(is_staff=True))
    response = client.post(
        "/admin/streaming/bannedterm/add/", {"term": "(a", "is_regex": "on", "action": "block", "game": ""}
    )
    assert response.status_code == 200
    assert "does not compile" in response.content.decode()
    assert BannedTerm.objects.count() == 0


def test_a_thousand_terms_cost_well_under_a_millisecond_per_message():
    words = [(f"badword{n}", False, "block") for n in range(900)]
    regexes = [(rf"sp[a4]m{n}\d+", True, "hold") for n in range(100)]
    matcher = filters.TermMatcher(words + regexes)
    messages = [f"what a goal by number {n}, the keeper had no chance at all this time!" for n in range(500)]
    start = time.perf_counter()
    for text in messages:
        assert matcher.match(text) is None
    per_message = (time.perf_counter() - start) / len(messages)
    assert per_message < 0.001, per_message
    assert matcher.match("badword899").term == "badword899"


def test_emote_only_text():
    assert filters.is_emote_only("🔥🔥 👏🏽 ⚽")
    assert filters.is_emote_only("👨‍👩‍👧")
    assert not filters.is_emote_only("goal 🔥")
    assert not filters.is_emote_only("   ")
