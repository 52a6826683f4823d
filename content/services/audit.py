"""The audit trail: one row per write an editor or publisher makes to an item."""

from content.models import Content, ContentAuditLog


def content_audit_log_create(
    *,
    content: Content,
    actor,
    action: str,
    from_state: str = "",
    to_state: str = "",
    changed_fields=(),
    note: str = "",
) -> ContentAuditLog:
    """Written inside the caller's transaction, so a refused or rolled-back write leaves no row."""
    return ContentAuditLog.objects.create(
        content=content,
        actor=actor,
        action=action,
        from_state=from_state,
        to_state=to_state,
        changed_fields=list(changed_fields),
        note=note,
    )
