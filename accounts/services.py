"""Writes for who the user is: registration, profile, preferences, subscription, tokens."""

import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from accounts import selectors
from accounts.entitlements import plan_entitlement_sync
from accounts.models import AuthToken, Preferences, Subscription, User
from analytics import events
from csn.errors import ApplicationError, NotFoundError
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
    """Needs the current password; revokes every API token of the user so other devices sign in again."""
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
        credentials_revoke(user=user, reason=AuthToken.Reason.PASSWORD_CHANGED)


def credentials_revoke(*, user: User, reason: str) -> None:
    """Every credential of the user stops working: API tokens are revoked, and every open socket of the
    user (signed in by token or by browser session) is closed within a second, in every process. For a
    new password (any path: API, admin) and a deactivated account. Browser sessions need nothing more:
    Django refuses a session whose password hash is stale, or whose user is inactive."""
    AuthToken.objects.filter(user=user, revoked_at__isnull=True).update(
        revoked_at=timezone.now(), revoked_reason=reason
    )
    user_sockets_close(user_id=user.pk, reason=reason)


def _new_secret() -> tuple[str, str]:
    key = secrets.token_urlsafe(32)  # 43 characters, 256 bits
    return key, selectors.token_digest(key)


def _expiry(now):
    return now + timedelta(seconds=settings.ACCOUNTS_TOKEN_TTL_SECONDS)


def token_issue(*, user: User, name: str = "") -> AuthToken:
    """A new token for one device. Its secret is `token.key`, on the returned object only (never stored)."""
    key, digest = _new_secret()
    now = timezone.now()
    token = AuthToken.objects.create(user=user, digest=digest, name=name, created_at=now, expires_at=_expiry(now))
    token.key = key
    return token


def token_refresh(*, token: AuthToken) -> AuthToken:
    """A new secret and a new expiry for the same device. The secret presented keeps working for
    `ACCOUNTS_TOKEN_REFRESH_GRACE_SECONDS` (requests already in flight), then `token_refreshed`; the one it
    had replaced stops at once. Sockets signed in with the token stay open: it is the same device.
    `token` is what `token_authenticate(refresh=True)` accepted: its current secret."""
    key, digest = _new_secret()
    now = timezone.now()
    with transaction.atomic():
        # Only a token still good when the row is locked: two refreshes at once cannot both win.
        updated = AuthToken.objects.filter(
            pk=token.pk, digest=token.digest, revoked_at__isnull=True, expires_at__gt=now
        ).update(previous_digest=token.digest, digest=digest, refreshed_at=now, expires_at=_expiry(now))
    if not updated:
        raise ApplicationError("The token was refreshed or revoked meanwhile.", code="token_refreshed", status=401)
    token = AuthToken.objects.get(pk=token.pk)
    token.key = key
    return token


_TOKEN_ENDED = {
    "token_refreshed": "The token was replaced by a refresh; use the new one.",
    "token_revoked": "The token was revoked; sign in again.",
    "token_expired": "The token expired; sign in again.",
    "token_reused": "This token was already refreshed; presenting it again signed the device out. Sign in again.",
    "invalid_token": "The token is not valid.",
}


def _in_grace(token: AuthToken, now) -> bool:
    """Whether the secret the token's last refresh replaced still works (requests sent before the refresh
    answered): for `ACCOUNTS_TOKEN_REFRESH_GRACE_SECONDS` after that refresh."""
    grace = timedelta(seconds=settings.ACCOUNTS_TOKEN_REFRESH_GRACE_SECONDS)
    return token.refreshed_at is not None and now < token.refreshed_at + grace


def token_authenticate(*, key: str, refresh: bool = False) -> AuthToken:
    """The token whose secret is `key` with its user (`token.user`), if it is good now; otherwise a 401
    `ApplicationError` whose code says why: `token_refreshed`, `token_revoked`, `token_expired`,
    `token_reused` or `invalid_token` (unknown, or the account is inactive). Records when the token was
    last used (at most every `ACCOUNTS_TOKEN_TOUCH_SECONDS`).

    The secret a refresh replaced keeps working for `ACCOUNTS_TOKEN_REFRESH_GRACE_SECONDS` (requests in
    flight when the client refreshed); `token.previous_secret` says it was that one. It cannot be refreshed
    again (`refresh`: the refresh endpoint asks): within the grace that is `token_refreshed` (a parallel
    refresh of the same client won); after it, a replay (OAuth's refresh-token reuse detection): the
    secret leaked or the device's copy was stolen, so the device's token is revoked, the new secret with
    it (`token_reused`), and its sockets close."""
    token = selectors.token_with_user(key=key)
    now = timezone.now()
    problem = None
    if token is None or not token.user.is_active:
        problem = "invalid_token"
    else:
        token.previous_secret = token.digest != selectors.token_digest(key)
    if problem is None and token.previous_secret:
        if not _in_grace(token, now):
            problem = "token_refreshed"
            if refresh and token.revoked_at is None:
                _token_family_revoke(token)
                problem = "token_reused"
        elif refresh:
            problem = "token_refreshed"
    if problem is None:
        if token.revoked_at is not None:
            problem = "token_revoked"
        elif token.expires_at <= now:
            problem = "token_expired"
    if problem is not None:
        raise ApplicationError(_TOKEN_ENDED[problem], code=problem, status=401)
    touch = timedelta(seconds=settings.ACCOUNTS_TOKEN_TOUCH_SECONDS)
    if token.last_used_at is None or token.last_used_at < now - touch:
        AuthToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token


def _token_family_revoke(token: AuthToken) -> None:
    """A replaced secret presented for a refresh after the grace: every secret of the device stops (the
    current one too: whoever holds it may be the thief) and its sockets close."""
    token_revoke(token=token, reason=AuthToken.Reason.REUSED)


def token_revoke(*, token: AuthToken, reason: str = AuthToken.Reason.SIGNED_OUT) -> None:
    """One device signs out: its token stops working, and the sockets signed in with it close."""
    with transaction.atomic():
        AuthToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now(), revoked_reason=reason
        )
        user_sockets_close(user_id=token.user_id, reason=reason, credential=token.credential)


def token_revoke_by_id(*, user: User, token_id: int) -> None:
    """The user signs one of their devices out from another. Only their own, still active tokens."""
    token = AuthToken.objects.filter(
        pk=token_id, user=user, revoked_at__isnull=True, expires_at__gt=timezone.now()
    ).first()
    if token is None:
        raise NotFoundError("No such signed-in device.")
    token_revoke(token=token, reason=AuthToken.Reason.REVOKED)


def tokens_prune() -> int:
    """Forget tokens that ended (expired or revoked) longer ago than `ACCOUNTS_TOKEN_KEEP_ENDED_SECONDS`."""
    cutoff = timezone.now() - timedelta(seconds=settings.ACCOUNTS_TOKEN_KEEP_ENDED_SECONDS)
    deleted, _ = AuthToken.objects.filter(Q(expires_at__lt=cutoff) | Q(revoked_at__lt=cutoff)).delete()
    return deleted


def browser_session_ended(*, user_id: int, session_key: str | None) -> None:
    """A browser signed out (Django's `user_logged_out`): the sockets signed in by that session close."""
    if session_key:
        user_sockets_close(user_id=user_id, reason="signed_out", credential=credential_id("session", session_key))
