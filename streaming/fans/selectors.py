"""Reads of a fan's favorites and notifications. Always for one user."""

from django.db.models import QuerySet

from streaming.fans.models import FavoritePlayer, FavoriteTeam, Notification


def favorite_teams(*, user) -> QuerySet[FavoriteTeam]:
    return FavoriteTeam.objects.filter(user=user).select_related("team").order_by("-created_at", "-id")


def favorite_players(*, user) -> QuerySet[FavoritePlayer]:
    return FavoritePlayer.objects.filter(user=user).select_related("player__team").order_by("-created_at", "-id")


def notifications(*, user) -> QuerySet[Notification]:
    return Notification.objects.filter(user=user).order_by("-created_at", "-id")


def unread_notification_count(*, user) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


def follows_any_team(user_id: int, team_ids) -> bool:
    """Whether the user follows one of the teams (the live chat's fans-only mode)."""
    return FavoriteTeam.objects.filter(user_id=user_id, team_id__in=list(team_ids)).exists()
