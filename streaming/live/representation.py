"""How live objects look to clients: one shape per object, for the websocket events, snapshots and the API."""

from content.models import Game
from csn.representation import datetime_text
from streaming.live.models import ChatMessage, ChatReport, GameChat, GameEvent, LiveSession, Poll, Prediction


def game_state(game: Game) -> dict:
    return {
        "id": game.pk,
        "status": game.status,
        "home_team": {"id": game.home_team_id, "name": game.home_team.name},
        "away_team": {"id": game.away_team_id, "name": game.away_team.name},
        "home_score": game.home_score,
        "away_score": game.away_score,
        "period": game.period,
        "clock": game.clock,
        "starts_at": datetime_text(game.starts_at),
    }


def play_data(event: GameEvent) -> dict:
    return {
        "id": event.pk,
        "description": event.description,
        "status": event.status,
        "home_score": event.home_score,
        "away_score": event.away_score,
        "period": event.period,
        "clock": event.clock,
        "changed": event.changed,
        "key_moment": event.key_moment,
        "occurred_at": datetime_text(event.occurred_at),
        "created_at": datetime_text(event.created_at),
    }


QUOTE_LENGTH = 140
MESSAGE_STATUS = {"published": "published", "held": "pending", "rejected": "rejected"}


def chat_message_data(message: ChatMessage) -> dict:
    """A message as its readers see it; `status` is `pending` (held: its author and moderators only),
    `published` or `rejected`; `reply_to` quotes the message it answers (its text cut to 140 characters)."""
    quoted = message.reply_to if message.reply_to_id else None
    return {
        "id": message.pk,
        "game": message.game_id,
        "user": {"id": message.user_id, "name": message.user_name, "avatar": message.user_avatar},
        "text": message.text,
        "status": MESSAGE_STATUS[message.status],
        "reply_to": None
        if quoted is None
        else {
            "id": quoted.pk,
            "user": {"id": quoted.user_id, "name": quoted.user_name},
            "text": quoted.text[:QUOTE_LENGTH],
        },
        "created_at": datetime_text(message.created_at),
    }


def held_message_data(message: ChatMessage) -> dict:
    """What moderators see of a held message: the message and why it was held."""
    return {**chat_message_data(message), "held_reason": message.held_reason}


def chat_settings_data(chat: GameChat | None, *, open_now: bool) -> dict:
    return {
        "open": open_now,
        "slow_mode_seconds": chat.slow_mode_seconds if chat else 0,
        "mode": chat.mode if chat else GameChat.Mode.EVERYONE,
        "min_account_age_minutes": chat.min_account_age_minutes if chat else 0,
        "first_message_review": chat.first_message_review if chat else False,
    }


def session_data(session: LiveSession) -> dict:
    return {
        "id": str(session.pk),
        "game": session.game_id,
        "content": session.content_id,
        "playback": session.playback,
        "device": session.device,
        "started_at": datetime_text(session.started_at),
        "last_heartbeat_at": datetime_text(session.last_heartbeat_at),
    }


def report_data(report: ChatReport, *, context: list[ChatMessage], reporter_history: dict) -> dict:
    return {
        "id": report.pk,
        "game": report.game_id,
        "reason": report.reason,
        "note": report.note,
        "status": report.status,
        "created_at": datetime_text(report.created_at),
        "message": {**chat_message_data(report.message), "deleted": report.message.deleted_at is not None},
        "context": [chat_message_data(m) for m in context],
        "reporter": {"id": report.reporter_id, "name": report.reporter.display_name, **reporter_history},
    }


def poll_data(poll: Poll, *, counts: dict[int, int], now, your_vote: int | None = None) -> dict:
    """A poll with its counts per option (in option order); `your_vote` for the signed-in reader."""
    return {
        "id": poll.pk,
        "game": poll.game_id,
        "question": poll.question,
        "options": poll.options,
        "counts": [counts.get(index, 0) for index in range(len(poll.options))],
        "opens_at": datetime_text(poll.opens_at),
        "closes_at": datetime_text(poll.closes_at),
        "open": poll.opens_at <= now < poll.closes_at,
        "your_vote": your_vote,
    }


def prediction_data(prediction: Prediction) -> dict:
    return {
        "id": prediction.pk,
        "game": prediction.game_id,
        "kind": prediction.kind,
        "choices": Prediction.CHOICES[prediction.kind],
        "line": float(prediction.line) if prediction.line is not None else None,
        "locks_at": datetime_text(prediction.locks_at) if prediction.locks_at else None,
        "status": prediction.status,
        "outcome": prediction.outcome or None,
    }
