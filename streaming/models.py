"""Django loads an app's models from `<app>.models`: streaming's live in its parts."""

from streaming.fans.models import Announcement, FavoritePlayer, FavoriteTeam, Notification
from streaming.live.models import (
    BannedTerm,
    Broadcast,
    ChatBan,
    ChatMessage,
    ChatMute,
    ChatReport,
    GameChat,
    GameEvent,
    LiveSession,
    ModerationAction,
    Poll,
    PollVote,
    Prediction,
    PredictionPick,
    ReactionSecond,
)
from streaming.playback.models import Blackout
from streaming.viewing.models import MyListItem, Playlist, PlaylistItem, WatchProgress

__all__ = [
    "Announcement",
    "BannedTerm",
    "Blackout",
    "Broadcast",
    "ChatBan",
    "ChatMessage",
    "ChatMute",
    "ChatReport",
    "FavoritePlayer",
    "FavoriteTeam",
    "GameChat",
    "GameEvent",
    "LiveSession",
    "ModerationAction",
    "MyListItem",
    "Notification",
    "Playlist",
    "PlaylistItem",
    "Poll",
    "PollVote",
    "Prediction",
    "PredictionPick",
    "ReactionSecond",
    "WatchProgress",
]
