"""How long live data is kept: chat messages and ended viewing sessions (beat jobs, bounded batches)."""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from csn.retention import delete_in_batches
from streaming.live.models import ChatMessage, LiveSession


def chat_messages_prune() -> int:
    """Chat messages older than RETAIN_CHAT_DAYS (a game's chat is read while it is live)."""
    cutoff = timezone.now() - timedelta(days=settings.RETAIN_CHAT_DAYS)
    return delete_in_batches(ChatMessage.objects.filter(created_at__lt=cutoff), what="chat_messages")


def live_sessions_prune() -> int:
    """Viewing sessions that ended more than RETAIN_LIVE_SESSIONS_DAYS ago; open ones are never touched."""
    cutoff = timezone.now() - timedelta(days=settings.RETAIN_LIVE_SESSIONS_DAYS)
    return delete_in_batches(LiveSession.objects.filter(ended_at__lt=cutoff), what="live_sessions")
