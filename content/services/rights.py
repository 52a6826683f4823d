"""Who may edit an item, which workflow moves a user may make in its current state, and what a viewer's
entitlement unlocks."""

from content.models import Content
from content.selectors import user_has_premium
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


# Entitlement variants: everything about a viewer that a catalogue answer depends on, besides staff
# (who see every state). A cached catalogue answer is kept per variant (content.api.caching); add a
# variant here when a new entitlement (a product, a pass) changes what an answer shows.
ANONYMOUS = "anonymous"
FREE = "free"
PREMIUM = "premium"
VARIANTS = (ANONYMOUS, FREE, PREMIUM)


def entitlement_variant(*, user) -> str:
    """The viewer's entitlement variant: `anonymous`, `free`, or `premium` (an active premium subscription,
    checked now: a lapsed one is `free` at once)."""
    if user is None or not user.is_authenticated:
        return ANONYMOUS
    return PREMIUM if user_has_premium(user=user) else FREE


def content_locked(*, content: Content, variant: str) -> bool:
    """Whether this variant sees the item locked (no video URL): a premium item, without premium."""
    return content.is_premium and variant != PREMIUM
