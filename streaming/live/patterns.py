"""A banned term's RE2 pattern and its check: what the model validates at save and the chat filters
compile (streaming.live.services.filters). No model here, so the model can use it."""

import re2
from django.conf import settings

from csn.errors import ApplicationError

TERM_MAX_LENGTH = 200  # BannedTerm.term's max_length


def options(max_mem: int) -> re2.Options:
    options = re2.Options()
    options.case_sensitive = False
    options.log_errors = False
    options.max_mem = max_mem
    return options


def _is_word_char(char: str) -> bool:
    return char.isascii() and (char.isalnum() or char == "_")


def term_regex(*, term: str, is_regex: bool) -> str:
    """The RE2 pattern of a term: a regex as written; a word escaped, matched as a whole word (RE2's
    `\\b` is ASCII: a word's edge that is not an ASCII letter, digit or `_` matches anywhere)."""
    if is_regex:
        return term
    pattern = re2.escape(term)
    return ("\\b" if _is_word_char(term[0]) else "") + pattern + ("\\b" if _is_word_char(term[-1]) else "")


def term_pattern_check(*, term, is_regex: bool) -> str:
    """The term's pattern, or `invalid_term` with a reason a moderator can act on: empty, too long,
    not RE2 syntax (backreferences and lookarounds are not), or a program past the size limit."""
    if not isinstance(term, str) or not term.strip():
        raise ApplicationError("A term cannot be empty.", code="invalid_term")
    if len(term) > TERM_MAX_LENGTH:
        raise ApplicationError(f"A term is at most {TERM_MAX_LENGTH} characters.", code="invalid_term")
    if "\x00" in term:
        raise ApplicationError("A term cannot contain NUL characters.", code="invalid_term")
    pattern = term_regex(term=term, is_regex=is_regex)
    try:
        compiled = re2.compile(pattern, options(settings.LIVE_CHAT_TERM_MAX_MEM))
    except re2.error as exc:
        reason = exc.args[0].decode(errors="replace") if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        raise ApplicationError(f"The regular expression does not compile: {reason}.", code="invalid_term") from exc
    if compiled.programsize > settings.LIVE_CHAT_TERM_MAX_PROGRAM:
        raise ApplicationError(
            f"The regular expression is too large ({compiled.programsize} instructions, "
            f"at most {settings.LIVE_CHAT_TERM_MAX_PROGRAM}): simplify it or split it.",
            code="invalid_term",
        )
    return pattern
