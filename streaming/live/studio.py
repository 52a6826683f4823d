"""The "Live now" panel of the Studio dashboard (registered in StreamingConfig.ready())."""

from csn.studio.charts import line_chart
from csn.studio.dashboard import Panel, panel_register
from streaming.live import selectors


def _live(request) -> dict:
    games = selectors.studio_live_now()
    labels, series = selectors.studio_viewers_last_hour(game_ids=[row["game"].pk for row in games])
    named = [(f"{row['game'].away_team} @ {row['game'].home_team}", series[row["game"].pk]) for row in games]
    return {"games": games, "chart": line_chart(named, labels=labels, title="Viewers of each live game, last hour")}


def panels_register() -> None:
    panel_register(Panel("live", "Live now", 20, "studio/live_now.html", _live, "content.view_game"))
