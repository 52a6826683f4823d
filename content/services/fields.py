"""The content fields an editor sets: editing validates them, revisions keep and restore them. State,
published_at and review_note only move through transitions (workflow)."""

EDITABLE_FIELDS = (
    "title",
    "slug",
    "type",
    "description",
    "year",
    "runtime_seconds",
    "tags",
    "thumbnail",
    "video_url",
    "is_premium",
    "available_from",
    "available_until",
    "game",
    "reveals_result",
)
M2M_FIELDS = ("teams", "players")
