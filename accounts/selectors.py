from django.db.models import QuerySet

from accounts.models import FavoritePlayer, FavoriteTeam, Notification, User


def user_with_account(*, user_id: int) -> User:
    """The user with preferences and subscription in one query (the /me/ shape)."""
    return User.objects.select_related("preferences", "subscription").get(pk=user_id)


def favorite_teams(*, user: User) -> QuerySet[FavoriteTeam]:
    return FavoriteTeam.objects.filter(user=user).select_related("team").order_by("-created_at", "-id")


def favorite_players(*, user: User) -> QuerySet[FavoritePlayer]:
    return FavoritePlayer.objects.filter(user=user).select_related("player__team").order_by("-created_at", "-id")


def notifications(*, user: User) -> QuerySet[Notification]:
    return Notification.objects.filter(user=user).order_by("-created_at", "-id")


def unread_notification_count(*, user: User) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


def has_account_rows(user: User) -> bool:
    """Whether a user loaded by `user_with_account` has both rows (no query: select_related cached them)."""
    return hasattr(user, "preferences") and hasattr(user, "subscription")
