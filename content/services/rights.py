"""Who may edit an item, and which workflow moves a user may make, in its current state."""

from content.models import Content
from content.services.workflow import TRANSITIONS, Transition
from csn.errors import ApplicationError, PermissionDeniedError

State = Content.State


def content_edit_refusal(*, user, content: Content) -> ApplicationError | None:
    """Why this user may not edit this item now (None: they may). Drafts are the editors'; items under
    review or on air are the publishers'; archived items are read-only."""
    if not user.has_perm("content.change_content"):
        return PermissionDeniedError("You may not edit content.", code="not_allowed")
    if content.state == State.ARCHIVED:
        return ApplicationError("Archived items are read-only.", code="read_only")
    if content.state != State.DRAFT and not user.has_perm("content.publish_content"):
        return PermissionDeniedError("Only publishers may edit items under review or published.", code="not_allowed")
    return None


def content_transitions_for(*, user, content: Content) -> list[Transition]:
    """The transitions this user may apply to this item in its current state (for buttons)."""
    return [t for t in TRANSITIONS.values() if content.state in t.sources and user.has_perm(t.permission)]
