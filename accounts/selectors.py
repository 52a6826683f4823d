from datetime import UTC

from django.utils import timezone
from rest_framework.authtoken.models import Token

from accounts.models import User

# Every API request looks its token up: as one constant statement, not a queryset compiled anew on
# each request (the ORM's compile was a fifth of a hot request's CPU in `python -m bench viewing`).
_TOKEN_USER_SQL = (
    f"SELECT u.*, t.created AS token_created FROM {User._meta.db_table} u "  # noqa: S608 - our tables
    f"JOIN {Token._meta.db_table} t ON t.user_id = u.id WHERE t.key = %s"
)


def token_with_user(*, key: str) -> Token | None:
    """The API token with this key and its user loaded (`token.user`), or None."""
    user = next(iter(User.objects.raw(_TOKEN_USER_SQL, [key])), None)
    if user is None:
        return None
    created = user.token_created
    if timezone.is_naive(created):  # SQLite: a raw extra column comes back naive, stored in UTC
        created = timezone.make_aware(created, UTC)
    token = Token.from_db(None, ["key", "user_id", "created"], [key, user.pk, created])
    token.user = user
    return token


def user_with_account(*, user_id: int) -> User:
    """The user with preferences and subscription in one query (the /me/ shape)."""
    return User.objects.select_related("preferences", "subscription").get(pk=user_id)


def has_account_rows(user: User) -> bool:
    """Whether a user loaded by `user_with_account` has both rows (no query: select_related cached them)."""
    return hasattr(user, "preferences") and hasattr(user, "subscription")
