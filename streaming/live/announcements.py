"""What the live area announces to the parts of streaming above it (`csn.announcements`)."""

from dataclasses import dataclass

from content.models import Game
from csn.announcements import Announcement


@dataclass(frozen=True)
class GameWentLive:
    """A scorekeeper moved the game to live. Announced inside that update's transaction, teams loaded."""

    game: Game


game_went_live = Announcement(GameWentLive)
