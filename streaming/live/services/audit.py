"""The moderation audit: one row per moderator action or chat setting change, in the action's transaction."""

from streaming.live.models import ModerationAction


def audit_record(
    *, actor, action: str, game_id=None, target_user_id=None, message_id=None, reason: str = "", **details
) -> ModerationAction:
    """Record who did what, to whom, why; `details` keeps what changed (JSON values)."""
    return ModerationAction.objects.create(
        actor=actor if actor is not None and actor.is_authenticated else None,
        action=action,
        game_id=game_id,
        target_user_id=target_user_id,
        message_id=message_id,
        reason=(reason or "")[:280],
        details=details,
    )


def audit_message_action(*, actor, action: str, message, reason: str = "", **details) -> ModerationAction:
    """An action on one chat message: its game and author are recorded with it."""
    return audit_record(
        actor=actor,
        action=action,
        game_id=message.game_id,
        target_user_id=message.user_id,
        message_id=message.pk,
        reason=reason,
        **details,
    )
