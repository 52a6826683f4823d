from django.contrib.auth import authenticate, update_session_auth_hash
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import selectors, services
from accounts.api.serializers import (
    MeOutputSerializer,
    MeUpdateInputSerializer,
    PasswordChangeInputSerializer,
    RegisterInputSerializer,
    RegisterOutputSerializer,
    TokenInputSerializer,
    TokenOutputSerializer,
)
from csn.api.schema import error_codes
from csn.api.throttling import ScopedRateThrottle
from csn.errors import ApplicationError


class RegisterView(APIView):
    permission_classes = [AllowAny]
    authentication_classes = []
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "register"

    @extend_schema(
        operation_id="register",
        summary="Create an account",
        description="A new viewer account on the free plan, and its API token. Throttled per client address.",
        request=RegisterInputSerializer,
        responses={201: RegisterOutputSerializer},
        extensions=error_codes({400: ["email_taken", "weak_password"]}),
    )
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

    @extend_schema(
        operation_id="signIn",
        summary="Sign in",
        description="Email and password for an API token, sent as `Authorization: Token <token>`. Throttled "
        "per client address.",
        request=TokenInputSerializer,
        responses={200: TokenOutputSerializer},
        extensions=error_codes({400: ["invalid_credentials"]}),
        examples=[
            OpenApiExample(
                "Sign in", value={"email": "viewer@csn.local", "password": "csn-demo-password"}, request_only=True
            ),
            OpenApiExample("Token", value={"token": "9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b"}, response_only=True),
        ],
    )
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

    @extend_schema(
        operation_id="signOut",
        summary="Sign out",
        description="Revokes the token; the websockets signed in with it close within a second (`4401`).",
        request=None,
        responses={204: None},
    )
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

    @extend_schema(
        operation_id="getMe",
        summary="Get your account",
        description="Profile, preferences and subscription of the signed-in user.",
        responses={200: MeOutputSerializer},
    )
    def get(self, request):
        return Response(MeOutputSerializer(_account(request.user)).data)

    @extend_schema(
        operation_id="updateMe",
        summary="Update your profile and preferences",
        description="`display_name`, `avatar_url` and `preferences`; anything else in the body is ignored.",
        request=MeUpdateInputSerializer,
        responses={200: MeOutputSerializer},
    )
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

    @extend_schema(
        operation_id="changePassword",
        summary="Change your password",
        description="Needs the current password. Revokes the old token and closes every open websocket of "
        "the user (`4401`); the answer holds this device's new token.",
        request=PasswordChangeInputSerializer,
        responses={200: TokenOutputSerializer},
        extensions=error_codes({400: ["wrong_password", "weak_password"]}),
    )
    def post(self, request):
        data = PasswordChangeInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.password_change(user=request.user, **data.validated_data)
        # A browser session that changed its password stays signed in; other sessions end.
        update_session_auth_hash(request._request, request.user)
        # The old token is revoked; this device gets a fresh one.
        token = services.token_issue(user=request.user)
        return Response({"token": token.key})
