"""How live objects look to clients: one shape per object, for the websocket events, snapshots and the API."""

from content.models import Game
from csn.representation import datetime_text
from streaming.live.models import ChatMessage, GameEvent, LiveSession


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
        "created_at": datetime_text(event.created_at),
    }


def chat_message_data(message: ChatMessage) -> dict:
    return {
        "id": message.pk,
        "game": message.game_id,
        "user": {"id": message.user_id, "name": message.user_name, "avatar": message.user_avatar},
        "text": message.text,
        "created_at": datetime_text(message.created_at),
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
