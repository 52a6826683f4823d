from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from content.spoilers import spoilers_for
from csn.api.pagination import CursorPagination, paginated_response
from csn.api.schema import error_codes
from streaming.fans import selectors, services
from streaming.fans.api.serializers import (
    FavoritePlayerInputSerializer,
    FavoritePlayerSerializer,
    FavoriteTeamInputSerializer,
    FavoriteTeamSerializer,
    NotificationSerializer,
    NotificationsReadAllOutputSerializer,
)

FAVORITE_PAGINATION = CursorPagination.ordered_by("-created_at", "-id")


class FavoriteTeamsView(APIView):
    pagination_class = FAVORITE_PAGINATION

    @extend_schema(
        operation_id="listFavoriteTeams",
        summary="List followed teams",
        description="The teams the user follows, newest first, cursor-paginated.",
        responses={200: FavoriteTeamSerializer(many=True)},
    )
    def get(self, request):
        return paginated_response(
            view=self, queryset=selectors.favorite_teams(user=request.user), serializer_class=FavoriteTeamSerializer
        )

    @extend_schema(
        operation_id="followTeam",
        summary="Follow a team",
        description="Idempotent: 201 when added, 200 when already a favorite.",
        request=FavoriteTeamInputSerializer,
        responses={201: FavoriteTeamSerializer, 200: FavoriteTeamSerializer},
        extensions=error_codes({404: ["team_not_found"]}),
    )
    def post(self, request):
        data = FavoriteTeamInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        favorite, created = services.favorite_team_add(user=request.user, team_id=data.validated_data["team_id"])
        return Response(
            FavoriteTeamSerializer(favorite).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )


class FavoriteTeamView(APIView):
    @extend_schema(
        operation_id="unfollowTeam",
        summary="Unfollow a team",
        description="Idempotent: 204 whether or not the team was followed.",
        request=None,
        responses={204: None},
    )
    def delete(self, request, team_id: int):
        services.favorite_team_remove(user=request.user, team_id=team_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class FavoritePlayersView(APIView):
    pagination_class = FAVORITE_PAGINATION

    @extend_schema(
        operation_id="listFavoritePlayers",
        summary="List followed players",
        description="The players the user follows, newest first, cursor-paginated.",
        responses={200: FavoritePlayerSerializer(many=True)},
    )
    def get(self, request):
        return paginated_response(
            view=self, queryset=selectors.favorite_players(user=request.user), serializer_class=FavoritePlayerSerializer
        )

    @extend_schema(
        operation_id="followPlayer",
        summary="Follow a player",
        description="Idempotent: 201 when added, 200 when already a favorite.",
        request=FavoritePlayerInputSerializer,
        responses={201: FavoritePlayerSerializer, 200: FavoritePlayerSerializer},
        extensions=error_codes({404: ["player_not_found"]}),
    )
    def post(self, request):
        data = FavoritePlayerInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        favorite, created = services.favorite_player_add(user=request.user, player_id=data.validated_data["player_id"])
        return Response(
            FavoritePlayerSerializer(favorite).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )


class FavoritePlayerView(APIView):
    @extend_schema(
        operation_id="unfollowPlayer",
        summary="Unfollow a player",
        description="Idempotent: 204 whether or not the player was followed.",
        request=None,
        responses={204: None},
    )
    def delete(self, request, player_id: int):
        services.favorite_player_remove(user=request.user, player_id=player_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class NotificationPagination(CursorPagination):
    """Newest first; the page also carries the user's unread count."""

    def get_paginated_response_schema(self, schema):
        paginated = super().get_paginated_response_schema(schema)
        paginated["properties"]["unread_count"] = {"type": "integer", "description": "All unread, not this page's."}
        paginated.setdefault("required", []).append("unread_count")
        return paginated


class NotificationsView(APIView):
    pagination_class = NotificationPagination

    @extend_schema(
        operation_id="listNotifications",
        summary="List notifications",
        description="Newest first, cursor-paginated; the body also has `unread_count`.",
        responses={200: NotificationSerializer(many=True)},
    )
    def get(self, request):
        return paginated_response(
            view=self,
            queryset=selectors.notifications(user=request.user),
            serializer_class=NotificationSerializer,
            extra={"unread_count": selectors.unread_notification_count(user=request.user)},
            context={"spoilers": spoilers_for(request.user)},
        )


class NotificationReadView(APIView):
    @extend_schema(
        operation_id="markNotificationRead",
        summary="Mark a notification read",
        description="Idempotent; the user's other devices get `notification.read`.",
        request=None,
        responses={200: NotificationSerializer},
        extensions=error_codes({404: ["notification_not_found"]}),
    )
    def post(self, request, notification_id: int):
        notification = services.notification_mark_read(user=request.user, notification_id=notification_id)
        return Response(NotificationSerializer(notification, context={"spoilers": spoilers_for(request.user)}).data)


class NotificationsReadAllView(APIView):
    @extend_schema(
        operation_id="markAllNotificationsRead",
        summary="Mark every notification read",
        description="Answers how many were marked; the user's other devices get `notification.read`.",
        request=None,
        responses={200: NotificationsReadAllOutputSerializer},
    )
    def post(self, request):
        marked = services.notification_mark_all_read(user=request.user)
        return Response({"marked": marked, "unread_count": 0})
