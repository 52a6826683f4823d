"""The analytics delivery panel of the Studio dashboard (registered in AnalyticsConfig.ready())."""

from analytics.selectors import outbox_backlog
from csn.studio.dashboard import Panel, panel_register


def panels_register() -> None:
    panel_register(
        Panel(
            "analytics",
            "Analytics delivery",
            60,
            "studio/outbox.html",
            lambda request: {"backlog": outbox_backlog()},
            "analytics.view_outboxevent",
        )
    )
