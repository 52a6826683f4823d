"""How viewer state looks to clients, shared by the API and the live `user` topic.

A device updating its Continue Watching row from a `progress.updated` event gets exactly what
`GET /api/v1/progress/{id}/` answers. Built as plain dicts: the hot endpoints cannot afford DRF's field
machinery, and a test keeps these equal to the serializers that document the schema.
"""

from csn.representation import datetime_text
from streaming.viewing.models import WatchProgress


def progress_data(progress: WatchProgress) -> dict:
    return {
        "content_id": progress.content_id,
        "position_seconds": float(progress.position_seconds),
        "duration_seconds": float(progress.duration_seconds),
        "completion_percentage": float(progress.completion_percentage),
        "completed": bool(progress.completed),
        "recorded_at": datetime_text(progress.recorded_at),
        "last_watched_at": datetime_text(progress.last_watched_at),
    }
