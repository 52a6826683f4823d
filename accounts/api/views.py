from django.contrib.auth import authenticate, update_session_auth_hash
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from accounts import selectors, services
from accounts.api.serializers import (
    FavoritePlayerInputSerializer,
    FavoritePlayerSerializer,
    FavoriteTeamInputSerializer,
    FavoriteTeamSerializer,
    MeOutputSerializer,
    MeUpdateInputSerializer,
    NotificationSerializer,
    NotificationsReadAllOutputSerializer,
    PasswordChangeInputSerializer,
    RegisterInputSerializer,
    TokenInputSerializer,
    TokenOutputSerializer,
)
from csn.api.pagination import CursorPagination
from csn.errors import ApplicationError


class RegisterView(APIView):
    permission_classes = [AllowAny]
    authentication_classes = []
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "register"

    @extend_schema(request=RegisterInputSerializer, responses={201: MeOutputSerializer})
    def post(self, request):
        data = RegisterInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.user_create(**data.validated_data)
        token = services.token_issue(user=user)
        body = MeOutputSerializer(selectors.user_with_account(user_id=user.pk)).data
        return Response({**body, "token": token.key}, status=status.HTTP_201_CREATED)


class TokenView(APIView):
    """Email and password for an API token (`Authorization: Token <token>`). Throttled per client address."""

    permission_classes = [AllowAny]
    authentication_classes = []
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "login"

    @extend_schema(request=TokenInputSerializer, responses={200: TokenOutputSerializer})
    def post(self, request):
        data = TokenInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = authenticate(
            request, email=data.validated_data["email"].lower(), password=data.validated_data["password"]
        )
        if user is None:
            raise ApplicationError("Wrong email or password.", code="invalid_credentials", status=400)
        token = services.token_issue(user=user)
        return Response({"token": token.key})


class LogoutView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={204: None})
    def post(self, request):
        services.token_revoke(user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


def _account(user):
    """The /me/ shape in one query. Users made outside registration (createsuperuser, admin) get
    their preferences and subscription rows the first time they are missing, not on every read."""
    account = selectors.user_with_account(user_id=user.pk)
    if not selectors.has_account_rows(account):
        services.ensure_user_rows(user=user)
        account = selectors.user_with_account(user_id=user.pk)
    return account


class MeView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: MeOutputSerializer})
    def get(self, request):
        return Response(MeOutputSerializer(_account(request.user)).data)

    @extend_schema(request=MeUpdateInputSerializer, responses={200: MeOutputSerializer})
    def patch(self, request):
        data = MeUpdateInputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        preferences = values.pop("preferences", None)
        services.profile_update(user=request.user, **values)
        if preferences:
            services.preferences_update(user=request.user, **preferences)
        return Response(MeOutputSerializer(_account(request.user)).data)


class PasswordChangeView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=PasswordChangeInputSerializer, responses={200: TokenOutputSerializer})
    def post(self, request):
        data = PasswordChangeInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.password_change(user=request.user, **data.validated_data)
        # A browser session that changed its password stays signed in; other sessions end.
        update_session_auth_hash(request._request, request.user)
        # The old token is revoked; this device gets a fresh one.
        token = services.token_issue(user=request.user)
        return Response({"token": token.key})


# --- Favorites --------------------------------------------------------------------------------


class FavoritePagination(CursorPagination):
    ordering = ("-created_at", "-id")


class _PaginatedView(APIView):
    pagination_class = FavoritePagination

    def paginated(self, request, queryset, serializer_class, extra: dict | None = None):
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(queryset, request, view=self)
        response = paginator.get_paginated_response(serializer_class(page, many=True).data)
        if extra:
            response.data = {**extra, **response.data}
        return response


class FavoriteTeamsView(_PaginatedView):
    @extend_schema(responses={200: FavoriteTeamSerializer(many=True)})
    def get(self, request):
        return self.paginated(request, selectors.favorite_teams(user=request.user), FavoriteTeamSerializer)

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


class FavoritePlayersView(_PaginatedView):
    @extend_schema(responses={200: FavoritePlayerSerializer(many=True)})
    def get(self, request):
        return self.paginated(request, selectors.favorite_players(user=request.user), FavoritePlayerSerializer)

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


# --- Notifications ----------------------------------------------------------------------------


class NotificationPagination(CursorPagination):  # -created_at
    def get_paginated_response_schema(self, schema):
        paginated = super().get_paginated_response_schema(schema)
        paginated["properties"]["unread_count"] = {"type": "integer", "description": "All unread, not this page's."}
        paginated.setdefault("required", []).append("unread_count")
        return paginated


class NotificationsView(_PaginatedView):
    pagination_class = NotificationPagination

    @extend_schema(
        responses={200: NotificationSerializer(many=True)},
        description="Newest first, cursor-paginated; the body also has `unread_count`.",
    )
    def get(self, request):
        return self.paginated(
            request,
            selectors.notifications(user=request.user),
            NotificationSerializer,
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
