import hashlib
from datetime import UTC

from django.db import router
from django.db.models import F
from django.utils import timezone

from accounts.models import AuthToken, User
from csn.statements import raw_models

_TOKEN_COLUMNS = (
    "id",
    "user_id",
    "digest",
    "name",
    "created_at",
    "refreshed_at",
    "last_used_at",
    "expires_at",
    "revoked_at",
    "revoked_reason",
)
_TOKEN_DATETIMES = ("created_at", "refreshed_at", "last_used_at", "expires_at", "revoked_at")
# Every API request looks its token up: as one constant statement, not a queryset compiled anew on
# each request (the ORM's compile was a fifth of a hot request's CPU in `python -m bench viewing`).
# It finds the token by its current secret or by the one its last refresh replaced.
_TOKEN_USER_SQL = (
    "SELECT u.*, "  # noqa: S608 - our tables
    + ", ".join(f"t.{column} AS token_{column}" for column in _TOKEN_COLUMNS)
    + f" FROM {User._meta.db_table} u JOIN {AuthToken._meta.db_table} t ON t.user_id = u.id"
    " WHERE t.digest = %s OR t.previous_digest = %s"
)


def token_digest(key: str) -> str:
    """What is stored of a token's secret."""
    return hashlib.sha256(key.encode()).hexdigest()


def _aware(value):
    # SQLite: a raw extra column comes back naive, stored in UTC.
    return timezone.make_aware(value, UTC) if value is not None and timezone.is_naive(value) else value


def token_with_user(*, key: str) -> AuthToken | None:
    """The token whose current or previous secret is `key`, its user loaded (`token.user`), or None.
    Whether it is still good is `accounts.services.token_authenticate`'s to say."""
    digest = token_digest(key)
    users = raw_models(User, _TOKEN_USER_SQL, [digest, digest], alias=router.db_for_read(User))
    if not users:
        return None
    user = users[0]
    values = [getattr(user, f"token_{column}") for column in _TOKEN_COLUMNS]
    token = AuthToken.from_db(None, list(_TOKEN_COLUMNS), values)
    for column in _TOKEN_DATETIMES:
        setattr(token, column, _aware(getattr(token, column)))
    token.user = user
    return token


def tokens_active(*, user: User) -> list[AuthToken]:
    """The user's signed-in devices: tokens neither revoked nor expired, most recently used first."""
    return list(
        AuthToken.objects.filter(user=user, revoked_at__isnull=True, expires_at__gt=timezone.now()).order_by(
            F("last_used_at").desc(nulls_last=True), "-created_at"
        )
    )


def user_with_account(*, user_id: int) -> User:
    """The user with preferences and subscription in one query (the /me/ shape)."""
    return User.objects.select_related("preferences", "subscription").get(pk=user_id)


def has_account_rows(user: User) -> bool:
    """Whether a user loaded by `user_with_account` has both rows (no query: select_related cached them)."""
    return hasattr(user, "preferences") and hasattr(user, "subscription")


def token_active_until(*, token_id: int):
    """When the token expires, if it is neither revoked nor expired now; else None (a socket's check)."""
    return (
        AuthToken.objects.filter(pk=token_id, revoked_at__isnull=True, expires_at__gt=timezone.now())
        .values_list("expires_at", flat=True)
        .first()
    )
