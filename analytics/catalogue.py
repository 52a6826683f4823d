"""Every analytics event CSN sends to PostHog, with its properties and who may send it.

`CLIENT` events arrive from apps through `POST /api/v1/analytics/events/` and are validated strictly
(unknown names and properties refused). `SERVER` events come only from our own use cases through
`analytics.events`; a client sending one is refused, so an app cannot forge a sign-up or a publish.
Enrichment (registered by the apps owning the data: content facts, the user's plan; the request's device
and app version) is added at delivery and is not part of these definitions. docs/analytics.md renders this table.
"""

import math
from dataclasses import dataclass, field

from csn.text import text_storable

CLIENT = "client"
SERVER = "server"

# Property types, checked on JSON values. A bool is not a number here even though Python says so.
STRING = "string"
INTEGER = "integer"
NUMBER = "number"
BOOLEAN = "boolean"
STRING_LIST = "string_list"

MAX_STRING_LENGTH = 500
MAX_LIST_LENGTH = 50


@dataclass(frozen=True)
class Prop:
    type: str
    required: bool = True
    description: str = ""


@dataclass(frozen=True)
class EventSpec:
    name: str
    source: str
    description: str
    properties: dict[str, Prop] = field(default_factory=dict)


_EVENTS = [
    # --- sent by apps ---------------------------------------------------------------------------
    EventSpec(
        "page_view",
        CLIENT,
        "A screen or page was shown.",
        {
            "path": Prop(STRING, description="Route or URL path, without query string"),
            "referrer": Prop(STRING, required=False),
            "title": Prop(STRING, required=False),
        },
    ),
    EventSpec(
        "video_pause",
        CLIENT,
        "The viewer paused playback.",
        {"video_id": Prop(INTEGER), "position_seconds": Prop(NUMBER)},
    ),
    EventSpec(
        "video_resume",
        CLIENT,
        "The viewer resumed playback after a pause.",
        {"video_id": Prop(INTEGER), "position_seconds": Prop(NUMBER)},
    ),
    EventSpec(
        "video_seek",
        CLIENT,
        "The viewer jumped to another position.",
        {"video_id": Prop(INTEGER), "from_seconds": Prop(NUMBER), "to_seconds": Prop(NUMBER)},
    ),
    EventSpec(
        "video_buffering",
        CLIENT,
        "Playback stalled while the player buffered.",
        {"video_id": Prop(INTEGER), "position_seconds": Prop(NUMBER), "duration_ms": Prop(INTEGER)},
    ),
    EventSpec(
        "video_share",
        CLIENT,
        "The viewer shared a video.",
        {"video_id": Prop(INTEGER), "channel": Prop(STRING, required=False, description="e.g. copy_link")},
    ),
    EventSpec(
        "content_clicked",
        CLIENT,
        "A content card was opened from a list.",
        {
            "content_id": Prop(INTEGER),
            "surface": Prop(STRING, required=False, description="e.g. home, continue_watching, search"),
            "position": Prop(INTEGER, required=False, description="0-based position in the list"),
        },
    ),
    EventSpec(
        "search_performed",
        CLIENT,
        "A catalogue search ran. The query text itself is not sent (it may hold personal data).",
        {"query_length": Prop(INTEGER), "results_count": Prop(INTEGER, required=False)},
    ),
    # --- sent by the server's use cases ---------------------------------------------------------
    EventSpec("signed_up", SERVER, "An account was created.", {"method": Prop(STRING)}),
    EventSpec(
        "subscription_changed",
        SERVER,
        "A plan or its status changed.",
        {"from_plan": Prop(STRING), "to_plan": Prop(STRING), "status": Prop(STRING)},
    ),
    EventSpec(
        "video_play",
        SERVER,
        "The first progress reading of a content item by this viewer.",
        {
            "video_id": Prop(INTEGER),
            "position_seconds": Prop(NUMBER, required=False),
            "duration_seconds": Prop(NUMBER, required=False),
        },
    ),
    EventSpec(
        "video_complete",
        SERVER,
        "Progress crossed the completion threshold (90%).",
        {
            "video_id": Prop(INTEGER),
            "position_seconds": Prop(NUMBER, required=False),
            "duration_seconds": Prop(NUMBER, required=False),
            "completion_percentage": Prop(NUMBER, required=False),
        },
    ),
    EventSpec(
        "content_added",
        SERVER,
        "An editor created a content item.",
        {
            "content_id": Prop(INTEGER),
            "content_type": Prop(STRING, required=False),
            "title": Prop(STRING, required=False),
        },
    ),
    EventSpec(
        "content_published",
        SERVER,
        "A content item was published.",
        {
            "content_id": Prop(INTEGER),
            "content_type": Prop(STRING, required=False),
            "title": Prop(STRING, required=False),
            "is_premium": Prop(BOOLEAN, required=False),
            "tags": Prop(STRING_LIST, required=False),
        },
    ),
    EventSpec(
        "chat_message_sent",
        SERVER,
        "A live chat message was posted.",
        {"game_id": Prop(INTEGER), "length": Prop(INTEGER, required=False)},
    ),
    EventSpec(
        "chat_reported",
        SERVER,
        "A viewer reported a live chat message to the moderators.",
        {"game_id": Prop(INTEGER), "message_id": Prop(INTEGER), "reason": Prop(STRING)},
    ),
    EventSpec(
        "poll_voted",
        SERVER,
        "A viewer voted in a live chat poll (or changed their vote).",
        {"game_id": Prop(INTEGER), "poll_id": Prop(INTEGER), "option": Prop(INTEGER)},
    ),
    EventSpec(
        "prediction_made",
        SERVER,
        "A viewer made (or changed) a pick on a game prediction.",
        {"game_id": Prop(INTEGER), "prediction_id": Prop(INTEGER), "kind": Prop(STRING)},
    ),
    EventSpec(
        "reaction_sent",
        SERVER,
        "A viewer reacted to a live game (sampled: a user's first reaction to a game in each minute).",
        {"game_id": Prop(INTEGER), "emoji": Prop(STRING)},
    ),
    EventSpec(
        "my_list_added",
        SERVER,
        "A content item was added to My List.",
        {"video_id": Prop(INTEGER), "video_type": Prop(STRING, required=False)},
    ),
    EventSpec(
        "my_list_removed",
        SERVER,
        "A content item was removed from My List.",
        {"video_id": Prop(INTEGER), "video_type": Prop(STRING, required=False)},
    ),
]

EVENTS: dict[str, EventSpec] = {spec.name: spec for spec in _EVENTS}


# Integers travel as JSON numbers and end in bigint columns (content ids): the bigint range.
MIN_INTEGER, MAX_INTEGER = -(2**63), 2**63 - 1


def _type_ok(kind: str, value) -> bool:
    if kind == STRING:
        return isinstance(value, str) and len(value) <= MAX_STRING_LENGTH
    if kind == INTEGER:
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == NUMBER:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind == BOOLEAN:
        return isinstance(value, bool)
    if kind == STRING_LIST:
        return (
            isinstance(value, list)
            and len(value) <= MAX_LIST_LENGTH
            and all(isinstance(item, str) and len(item) <= MAX_STRING_LENGTH for item in value)
        )
    raise ValueError(f"unknown property type {kind!r}")


def _in_range(value) -> bool:
    """A number PostgreSQL's jsonb and a bigint column can hold: `1e400` parses as infinity, and an
    integer past 2**63 - 1 overflows the content lookup at delivery."""
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, int):
        return MIN_INTEGER <= value <= MAX_INTEGER
    return True


def _storable(value) -> bool:
    if isinstance(value, str):
        return text_storable(value)
    return not isinstance(value, list) or all(text_storable(item) for item in value if isinstance(item, str))


def property_errors(spec: EventSpec, properties: dict, *, allow_unknown: bool = False) -> dict[str, list[dict]]:
    """Problems of `properties` against the spec, as {property name: [{"code", "message"}]}."""
    errors: dict[str, list[dict]] = {}
    for name, prop in spec.properties.items():
        if name not in properties or properties[name] is None:
            if prop.required:
                errors[name] = [{"code": "missing_property", "message": f"{spec.name} needs {name}."}]
        elif not _type_ok(prop.type, properties[name]):
            errors[name] = [{"code": "wrong_type", "message": f"{name} must be of type {prop.type}."}]
        elif not _in_range(properties[name]):
            errors[name] = [{"code": "out_of_range", "message": f"{name} is out of range."}]
        elif not _storable(properties[name]):
            # Refused here rather than failing the batch's insert (or its response).
            errors[name] = [
                {"code": "invalid_characters", "message": f"{name} contains a NUL or a lone surrogate character."}
            ]
    if not allow_unknown:
        for name in properties:
            if name not in spec.properties:
                errors[name] = [{"code": "unknown_property", "message": f"{spec.name} has no property {name}."}]
    return errors
