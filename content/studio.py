"""The content panels of the Studio dashboard (registered in ContentConfig.ready())."""

from content import selectors
from csn.studio.charts import bar_chart
from csn.studio.dashboard import Panel, panel_register

CHART_DAYS = 14


def _review(request) -> dict:
    count, items = selectors.studio_review_queue()
    return {"count": count, "items": items}


def _scheduled(request) -> dict:
    return {"moves": selectors.studio_scheduled()}


def _failed(request) -> dict:
    count, assets = selectors.studio_failed_uploads()
    return {"count": count, "assets": assets}


def _published(request) -> dict:
    points = selectors.studio_published_per_day(days=CHART_DAYS)
    return {
        "days": CHART_DAYS,
        "total": sum(n for _, n in points),
        "chart": bar_chart(points, title=f"Items published per day, last {CHART_DAYS} days"),
    }


def panels_register() -> None:
    view = "content.view_content"
    panel_register(Panel("review", "Waiting for review", 10, "studio/review_queue.html", _review, view))
    panel_register(Panel("scheduled", "Publishing soon", 30, "studio/scheduled.html", _scheduled, view))
    panel_register(Panel("published", "Published per day", 40, "studio/published_chart.html", _published, view))
    media = "content.view_mediaasset"
    panel_register(Panel("failed-uploads", "Failed uploads", 50, "studio/failed_uploads.html", _failed, media))
