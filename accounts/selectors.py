from accounts.models import User


def user_with_account(*, user_id: int) -> User:
    """The user with preferences and subscription in one query (the /me/ shape)."""
    return User.objects.select_related("preferences", "subscription").get(pk=user_id)
