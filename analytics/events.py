"""One function per server event of the catalogue (`analytics.catalogue`): the only way our use cases
send analytics. A misspelt event is an AttributeError and a missing property a TypeError, so a test
of the use case fails; `test_events` holds these functions and the catalogue in step.

Each queues its event in the caller's transaction (a rolled-back use case sends nothing); the row is
enriched and delivered later, off the request path.
"""

from datetime import datetime

from analytics.services.intake import server_event_record


def _optional(**properties) -> dict:
    return {name: value for name, value in properties.items() if value is not None}


def signed_up(*, user_id: int, method: str) -> None:
    server_event_record(name="signed_up", distinct_id=user_id, properties={"method": method})


def subscription_changed(*, user_id: int, from_plan: str, to_plan: str, status: str) -> None:
    server_event_record(
        name="subscription_changed",
        distinct_id=user_id,
        properties={"from_plan": from_plan, "to_plan": to_plan, "status": status},
    )


def video_play(
    *, user_id: int, video_id: int, position_seconds: float, duration_seconds: float, timestamp: datetime
) -> None:
    server_event_record(
        name="video_play",
        distinct_id=user_id,
        properties={"video_id": video_id, "position_seconds": position_seconds, "duration_seconds": duration_seconds},
        timestamp=timestamp,
    )


def video_complete(
    *,
    user_id: int,
    video_id: int,
    position_seconds: float,
    duration_seconds: float,
    completion_percentage: float,
    timestamp: datetime,
) -> None:
    server_event_record(
        name="video_complete",
        distinct_id=user_id,
        properties={
            "video_id": video_id,
            "position_seconds": position_seconds,
            "duration_seconds": duration_seconds,
            "completion_percentage": completion_percentage,
        },
        timestamp=timestamp,
    )


def content_added(*, user_id: int, content_id: int, content_type: str, title: str) -> None:
    server_event_record(
        name="content_added",
        distinct_id=user_id,
        properties={"content_id": content_id, "content_type": content_type, "title": title},
    )


def content_published(
    *, user_id: int, content_id: int, content_type: str, title: str, is_premium: bool, tags: list[str]
) -> None:
    server_event_record(
        name="content_published",
        distinct_id=user_id,
        properties={
            "content_id": content_id,
            "content_type": content_type,
            "title": title,
            "is_premium": is_premium,
            "tags": list(tags),
        },
    )


def chat_message_sent(*, user_id: int, game_id: int, length: int) -> None:
    server_event_record(
        name="chat_message_sent", distinct_id=user_id, properties={"game_id": game_id, "length": length}
    )


def chat_reported(*, user_id: int, game_id: int, message_id: int, reason: str) -> None:
    server_event_record(
        name="chat_reported",
        distinct_id=user_id,
        properties={"game_id": game_id, "message_id": message_id, "reason": reason},
    )


def poll_voted(*, user_id: int, game_id: int, poll_id: int, option: int) -> None:
    server_event_record(
        name="poll_voted", distinct_id=user_id, properties={"game_id": game_id, "poll_id": poll_id, "option": option}
    )


def prediction_made(*, user_id: int, game_id: int, prediction_id: int, kind: str) -> None:
    server_event_record(
        name="prediction_made",
        distinct_id=user_id,
        properties={"game_id": game_id, "prediction_id": prediction_id, "kind": kind},
    )


def reaction_sent(*, user_id: int, game_id: int, emoji: str) -> None:
    server_event_record(name="reaction_sent", distinct_id=user_id, properties={"game_id": game_id, "emoji": emoji})


def my_list_added(*, user_id: int, video_id: int, video_type: str | None = None) -> None:
    server_event_record(
        name="my_list_added", distinct_id=user_id, properties=_optional(video_id=video_id, video_type=video_type)
    )


def my_list_removed(*, user_id: int, video_id: int, video_type: str | None = None) -> None:
    server_event_record(
        name="my_list_removed", distinct_id=user_id, properties=_optional(video_id=video_id, video_type=video_type)
    )
