"""How fans hear of what happens below them: the announcements they subscribe to (StreamingConfig.ready),
and what they answer to live (who follows a team)."""

from content.announcements import ContentPublished, content_published
from streaming.fans import selectors, services
from streaming.live.announcements import GameWentLive, game_went_live
from streaming.live.services.filters import team_fan_check_register


def on_content_published(event: ContentPublished) -> None:
    services.notify_content_published(content=event.content)


def on_game_went_live(event: GameWentLive) -> None:
    services.notify_game_live(game=event.game)


def subscribe() -> None:
    content_published.subscribe(on_content_published)
    game_went_live.subscribe(on_game_went_live)
    # The live chat's "fans of either team" mode asks who follows a team.
    team_fan_check_register(selectors.follows_any_team)
