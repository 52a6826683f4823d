"""Django loads an app's models from `<app>.models`: streaming's live in its parts."""

from streaming.fans.models import Announcement, FavoritePlayer, FavoriteTeam, Notification
from streaming.live.models import ChatMessage, ChatMute, GameChat, GameEvent, LiveSession
from streaming.playback.models import Blackout
from streaming.viewing.models import MyListItem, Playlist, PlaylistItem, WatchProgress

__all__ = [
    "Announcement",
    "Blackout",
    "ChatMessage",
    "ChatMute",
    "FavoritePlayer",
    "FavoriteTeam",
    "GameChat",
    "GameEvent",
    "LiveSession",
    "MyListItem",
    "Notification",
    "Playlist",
    "PlaylistItem",
    "WatchProgress",
]
