from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from csn.api.pagination import CursorPagination, paginated_response
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

    @extend_schema(responses={200: FavoriteTeamSerializer(many=True)})
    def get(self, request):
        return paginated_response(
            view=self, queryset=selectors.favorite_teams(user=request.user), serializer_class=FavoriteTeamSerializer
        )

    @extend_schema(
        request=FavoriteTeamInputSerializer,
        responses={201: FavoriteTeamSerializer, 200: FavoriteTeamSerializer},
        description="Idempotent: 201 when added, 200 when already a favorite.",
    )
    def post(self, request):
        data = FavoriteTeamInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        favorite, created = services.favorite_team_add(user=request.user, team_id=data.validated_data["team_id"])
        return Response(
            FavoriteTeamSerializer(favorite).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )


class FavoriteTeamView(APIView):
    @extend_schema(request=None, responses={204: None}, description="Idempotent.")
    def delete(self, request, team_id: int):
        services.favorite_team_remove(user=request.user, team_id=team_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class FavoritePlayersView(APIView):
    pagination_class = FAVORITE_PAGINATION

    @extend_schema(responses={200: FavoritePlayerSerializer(many=True)})
    def get(self, request):
        return paginated_response(
            view=self, queryset=selectors.favorite_players(user=request.user), serializer_class=FavoritePlayerSerializer
        )

    @extend_schema(
        request=FavoritePlayerInputSerializer,
        responses={201: FavoritePlayerSerializer, 200: FavoritePlayerSerializer},
        description="Idempotent: 201 when added, 200 when already a favorite.",
    )
    def post(self, request):
        data = FavoritePlayerInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        favorite, created = services.favorite_player_add(user=request.user, player_id=data.validated_data["player_id"])
        return Response(
            FavoritePlayerSerializer(favorite).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )


class FavoritePlayerView(APIView):
    @extend_schema(request=None, responses={204: None}, description="Idempotent.")
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
        responses={200: NotificationSerializer(many=True)},
        description="Newest first, cursor-paginated; the body also has `unread_count`.",
    )
    def get(self, request):
        return paginated_response(
            view=self,
            queryset=selectors.notifications(user=request.user),
            serializer_class=NotificationSerializer,
            extra={"unread_count": selectors.unread_notification_count(user=request.user)},
        )


class NotificationReadView(APIView):
    @extend_schema(request=None, responses={200: NotificationSerializer})
    def post(self, request, notification_id: int):
        notification = services.notification_mark_read(user=request.user, notification_id=notification_id)
        return Response(NotificationSerializer(notification).data)


class NotificationsReadAllView(APIView):
    @extend_schema(request=None, responses={200: NotificationsReadAllOutputSerializer})
    def post(self, request):
        marked = services.notification_mark_all_read(user=request.user)
        return Response({"marked": marked, "unread_count": 0})
