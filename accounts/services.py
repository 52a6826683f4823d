"""Writes for who the user is: registration, profile, preferences, subscription, tokens."""

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from rest_framework.authtoken.models import Token

from accounts.entitlements import plan_entitlement_sync
from accounts.models import Preferences, Subscription, User
from analytics import events
from csn.errors import ApplicationError
from csn.realtime.sessions import credential_id, user_sockets_close


def _validate_password(password: str, user: User | None = None) -> None:
    try:
        password_validation.validate_password(password, user)
    except DjangoValidationError as exc:
        raise ApplicationError(
            "The password is too weak.",
            code="weak_password",
            fields={"password": [{"code": "weak_password", "message": m} for m in exc.messages]},
        ) from exc


def user_create(*, email: str, password: str, display_name: str, is_staff: bool = False) -> User:
    """A new account with its preferences and a free subscription. Emails are unique, case-insensitively."""
    email = User.objects.normalize_email(email).lower()
    candidate = User(email=email, display_name=display_name)
    _validate_password(password, candidate)
    if User.objects.filter(email__iexact=email).exists():
        raise _email_taken()
    try:
        with transaction.atomic():
            user = User.objects.create_user(
                email=email, password=password, display_name=display_name, is_staff=is_staff
            )
            Preferences.objects.create(user=user)
            Subscription.objects.create(user=user)
            events.signed_up(user_id=user.pk, method="email")
    except IntegrityError as exc:  # lost a race with the same email
        raise _email_taken() from exc
    return user


def _email_taken() -> ApplicationError:
    return ApplicationError(
        "An account with this email already exists.",
        code="email_taken",
        fields={"email": [{"code": "email_taken", "message": "An account with this email already exists."}]},
    )


def ensure_user_rows(*, user: User) -> None:
    """Users made outside `user_create` (createsuperuser, admin) get their rows on first use."""
    Preferences.objects.get_or_create(user=user)
    Subscription.objects.get_or_create(user=user)


@transaction.atomic
def profile_update(*, user: User, display_name: str | None = None, avatar_url: str | None = None) -> User:
    fields = []
    if display_name is not None:
        user.display_name = display_name
        fields.append("display_name")
    if avatar_url is not None:
        user.avatar_url = avatar_url
        fields.append("avatar_url")
    if fields:
        user.save(update_fields=fields)
    return user


PREFERENCE_FIELDS = ("language", "autoplay", "notify_game_live", "notify_new_content", "notify_announcements")


@transaction.atomic
def preferences_update(*, user: User, **changes) -> Preferences:
    prefs, _ = Preferences.objects.select_for_update().get_or_create(user=user)
    fields = [name for name in PREFERENCE_FIELDS if name in changes]
    for name in fields:
        setattr(prefs, name, changes[name])
    if fields:
        prefs.save(update_fields=[*fields, "updated_at"])
    return prefs


@transaction.atomic
def subscription_update(*, user: User, plan: str, status: str, current_period_end=None) -> Subscription:
    """Staff (admin) or billing change a plan; the change is an analytics event. The plan's product
    (an entitlement, source `plan`) follows: held until the period's end (past due: plus the grace)."""
    sub, _ = Subscription.objects.select_for_update().get_or_create(user=user)
    before = (sub.plan, sub.status)
    sub.plan, sub.status, sub.current_period_end = plan, status, current_period_end
    sub.save()
    plan_entitlement_sync(
        user=user,
        active=sub.plan == Subscription.Plan.PREMIUM and sub.status != Subscription.Status.CANCELED,
        ends_at=sub.access_ends_at(),
        reason=f"subscription {sub.plan} {sub.status}",
    )
    if before != (plan, status):
        events.subscription_changed(user_id=user.pk, from_plan=before[0], to_plan=plan, status=status)
    return sub


def password_change(*, user: User, current_password: str, new_password: str) -> None:
    """Needs the current password; revokes the user's API token so other devices sign in again."""
    if not user.check_password(current_password):
        raise ApplicationError(
            "The current password is wrong.",
            code="wrong_password",
            fields={"current_password": [{"code": "wrong_password", "message": "The current password is wrong."}]},
        )
    _validate_password(new_password, user)
    with transaction.atomic():
        user.set_password(new_password)
        user.save(update_fields=["password"])
        credentials_revoke(user=user, reason="password_changed")


def credentials_revoke(*, user: User, reason: str) -> None:
    """Every credential of the user stops working: API tokens are deleted, and every open socket of the
    user (signed in by token or by browser session) is closed within a second, in every process. For a
    new password (any path: API, admin) and a deactivated account. Browser sessions need nothing more:
    Django refuses a session whose password hash is stale, or whose user is inactive."""
    Token.objects.filter(user=user).delete()
    user_sockets_close(user_id=user.pk, reason=reason)


def token_issue(*, user: User) -> Token:
    token, _ = Token.objects.get_or_create(user=user)
    return token


def token_revoke(*, user: User) -> None:
    """Sign out: the API token stops working, and the sockets signed in with it close."""
    with transaction.atomic():
        keys = list(Token.objects.filter(user=user).values_list("key", flat=True))
        Token.objects.filter(user=user).delete()
        for key in keys:
            user_sockets_close(user_id=user.pk, reason="signed_out", credential=credential_id("token", key))


def browser_session_ended(*, user_id: int, session_key: str | None) -> None:
    """A browser signed out (Django's `user_logged_out`): the sockets signed in by that session close."""
    if session_key:
        user_sockets_close(user_id=user_id, reason="signed_out", credential=credential_id("session", session_key))
