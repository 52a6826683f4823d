"""What fans do in a game's chat besides typing: the pinned message (reactions, polls and predictions
would live here too)."""

from django.db import transaction

from csn.errors import ApplicationError
from csn.realtime.publish import publish
from streaming.live.models import ChatMessage, GameChat
from streaming.live.permissions import moderator_required
from streaming.live.representation import chat_message_data
from streaming.live.selectors import game_locked
from streaming.live.services.audit import audit_record
from streaming.live.topics import chat_topic


@transaction.atomic
def chat_message_pin(*, actor, game_id: int, message_id: int | None, reason: str = "") -> GameChat:
    """A moderator pins a visible message of the game's chat (None unpins). It is in the chat's
    snapshot; followers get `chat.pinned` with the message (or null)."""
    moderator_required(actor)
    game = game_locked(game_id)
    message = None
    if message_id is not None:
        message = (
            ChatMessage.objects.select_related("reply_to")
            .filter(pk=message_id, game=game, status=ChatMessage.Status.PUBLISHED, deleted_at=None)
            .first()
        )
        if message is None:
            raise ApplicationError("Pin a visible message of this chat.", code="invalid_pin")
    chat, _ = GameChat.objects.select_for_update().get_or_create(game=game)
    chat.pinned_message = message
    chat.save(update_fields=["pinned_message", "updated_at"])
    publish(
        topic=chat_topic(game.pk),
        name="chat.pinned",
        data={"message": chat_message_data(message) if message else None},
    )
    audit_record(
        actor=actor,
        action="message_pinned" if message else "message_unpinned",
        game_id=game.pk,
        message_id=message.pk if message else None,
        target_user_id=message.user_id if message else None,
        reason=reason,
    )
    return chat
