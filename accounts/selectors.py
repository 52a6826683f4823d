import functools

from django.db import connection
from rest_framework.authtoken.models import Token

from accounts.models import User
from csn.db import Statement

# Every API request looks its token up: as one constant statement (csn.db.Statement), not a queryset
# compiled anew on each request (the ORM's compile was a fifth of a hot request's CPU in `python -m bench
# viewing`), nor a raw query (whose column mapping is worked out again on every run).
_ANY_KEY = "\x00 no token has this key"


@functools.cache
def _token_statement(alias: str) -> Statement:
    queryset = Token.objects.filter(key=_ANY_KEY).select_related("user")
    return Statement(queryset, marker=_ANY_KEY, alias=alias)


def token_with_user(*, key: str) -> Token | None:
    """The API token with this key and its user loaded (`token.user`), or None."""
    found = _token_statement(connection.alias).run(key)
    return found[0] if found else None


def user_with_account(*, user_id: int) -> User:
    """The user with preferences and subscription in one query (the /me/ shape)."""
    return User.objects.select_related("preferences", "subscription").get(pk=user_id)


def has_account_rows(user: User) -> bool:
    """Whether a user loaded by `user_with_account` has both rows (no query: select_related cached them)."""
    return hasattr(user, "preferences") and hasattr(user, "subscription")
