"""The live topics: `game:<id>` (score, play-by-play, viewers), `chat:<id>`, `mod:<id>` (moderators only),
the signed-in `user`, and staff's `studio:<content id>` (who has an item open in the Studio;
content.services.presence)."""

from content.services.presence import STUDIO
from csn.errors import ApplicationError
from csn.realtime.topics import USER_TOPIC, topic_name

GAME = "game"
CHAT = "chat"
MOD = "mod"  # moderators' queue of one game's chat: held messages, reports


def mod_topic(game_id: int) -> str:
    return topic_name(MOD, game_id)


def game_topic(game_id: int) -> str:
    return topic_name(GAME, game_id)


def chat_topic(game_id: int) -> str:
    return topic_name(CHAT, game_id)


def parse_topic(topic) -> tuple[str, int | None]:
    """`game:7` -> ("game", 7); `user` -> ("user", None). Anything else is an unknown topic."""
    if topic == USER_TOPIC:
        return USER_TOPIC, None
    if isinstance(topic, str) and ":" in topic:
        kind, _, ident = topic.partition(":")
        if kind in (GAME, CHAT, MOD, STUDIO) and ident.isascii() and ident.isdigit() and len(ident) < 19:
            return kind, int(ident)
    raise ApplicationError("Unknown topic.", code="unknown_topic")
