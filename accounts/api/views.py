from django.contrib.auth import authenticate, logout, update_session_auth_hash
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import status
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import billing, entitlements, location, selectors, services
from accounts.api.serializers import (
    BillingEventOutputSerializer,
    DeviceTokenSerializer,
    EntitlementOutputSerializer,
    LocationOutputSerializer,
    MeOutputSerializer,
    MeUpdateInputSerializer,
    PasswordChangeInputSerializer,
    RegisterInputSerializer,
    RegisterOutputSerializer,
    TokenInputSerializer,
    TokenOutputSerializer,
)
from accounts.authentication import TokenRefreshAuthentication
from accounts.models import AuthToken
from csn.api.schema import error_codes
from csn.api.throttling import ScopedRateThrottle
from csn.errors import ApplicationError, NotFoundError


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


def _presented_token(request) -> AuthToken | None:
    """The token the request signed in with (None for a browser session)."""
    return request.auth if isinstance(request.auth, AuthToken) else None


class TokenView(APIView):
    """Email and password for a token of this device (`Authorization: Bearer <token>`). Each sign-in is a
    device of its own, with its own expiry. Throttled per client address."""

    permission_classes = [AllowAny]
    authentication_classes = []
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "login"

    @extend_schema(
        operation_id="signIn",
        summary="Sign in: a token for this device",
        description="Email and password for a token of this device, sent as `Authorization: Bearer <token>` (or "
        "`Token <token>`). Each sign-in is a device of its own (`name` labels it in the device list), with its "
        "own expiry (`expires_at`, 30 days by default). Throttled per client address.",
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
        token = services.token_issue(user=user, name=data.validated_data.get("name", ""))
        return Response(TokenOutputSerializer(token).data)


class TokenRefreshView(APIView):
    """A new secret and expiry for the presenting token (same device); the old secret stops working after
    a grace. A secret a refresh replaced is refused here; after its grace it revokes the device."""

    permission_classes = [IsAuthenticated]
    authentication_classes = [TokenRefreshAuthentication, SessionAuthentication]

    @extend_schema(
        operation_id="refreshToken",
        summary="Refresh this device's token",
        description="A new secret and a new expiry for the token the request presents (same device, same "
        "id). The old secret keeps working for a grace (30 s, `CSN_TOKEN_REFRESH_GRACE_SECONDS`: requests "
        "already in flight), then `401 token_refreshed`; open sockets stay signed in. Only the current secret "
        "refreshes: a replaced one is `401 token_refreshed` within its grace (a parallel refresh won) and, "
        "after it, `401 token_reused`: a replay, so the device's token is revoked (the new secret too) and "
        "its sockets close. Refresh before `expires_at`; an expired token cannot be refreshed "
        "(`401 token_expired`).",
        request=None,
        responses={200: TokenOutputSerializer},
        auth=[{"bearerAuth": []}, {"tokenAuth": []}],
        extensions=error_codes({400: ["token_required"], 401: ["token_reused"]}),
    )
    def post(self, request):
        token = _presented_token(request)
        if token is None:
            raise ApplicationError("Refresh needs a token (`Authorization: Bearer`).", code="token_required")
        return Response(TokenOutputSerializer(services.token_refresh(token=token)).data)


class LogoutView(APIView):
    """Sign this device out: the presenting token is revoked (a browser session ends); other devices stay."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="signOut",
        summary="Sign this device out",
        description="Revokes the token the request presents; the websockets signed in with it close within a "
        "second (`4401`). The user's other devices stay signed in. With a browser session, the session ends.",
        request=None,
        responses={204: None},
    )
    def post(self, request):
        token = _presented_token(request)
        if token is not None:
            services.token_revoke(token=token)
        else:
            logout(request._request)  # Django's user_logged_out closes that browser's sockets
        return Response(status=status.HTTP_204_NO_CONTENT)


class TokenListView(APIView):
    """The user's signed-in devices (tokens neither revoked nor expired), most recently used first."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="listDevices",
        summary="List my signed-in devices",
        description="The user's tokens neither revoked nor expired, most recently used first; `current` marks "
        "the token of this request. Never a secret.",
        responses={200: DeviceTokenSerializer(many=True)},
    )
    def get(self, request):
        token = _presented_token(request)
        context = {"current_id": token.pk if token else None}
        return Response(
            DeviceTokenSerializer(selectors.tokens_active(user=request.user), many=True, context=context).data
        )


class TokenDetailView(APIView):
    """Sign one of the user's devices out from here: its token is revoked and its sockets close."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="revokeDevice",
        summary="Sign one of my devices out",
        description="Revokes that device's token (`401 token_revoked` there from now on) and closes its sockets. "
        "Another user's device, or one already signed out: `404 not_found`.",
        request=None,
        responses={204: None},
    )
    def delete(self, request, token_id: int):
        services.token_revoke_by_id(user=request.user, token_id=token_id)
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
        description="Needs the current password. Revokes every token of the user (every device signs in "
        "again) and closes every open websocket of the user (`4401`); the answer holds a new token for this "
        "device, under the same name.",
        request=PasswordChangeInputSerializer,
        responses={200: TokenOutputSerializer},
        extensions=error_codes({400: ["wrong_password", "weak_password"]}),
    )
    def post(self, request):
        data = PasswordChangeInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.password_change(user=request.user, **data.validated_data)
        # A browser session that changed its password stays signed in; other sessions end. (An app's
        # request with a token has no session: csn.browser passes the session middleware by.)
        if hasattr(request._request, "session"):
            update_session_auth_hash(request._request, request.user)
        # Every token is revoked; this device gets a fresh one, under the same name.
        presented = _presented_token(request)
        token = services.token_issue(user=request.user, name=presented.name if presented else "")
        return Response(TokenOutputSerializer(token).data)


class StripeWebhookView(APIView):
    """Stripe's webhook (its event shapes; `Stripe-Signature` checked with STRIPE_WEBHOOK_SECRET, no
    network). Answers 200 for every authentic event, applied, waiting for its customer, ignored or a
    replay (`status`); 400 `bad_signature` for anything else, `malformed_event` for a signed payload
    that is not an event CSN can record; both change nothing."""

    permission_classes = [AllowAny]
    authentication_classes = []
    throttle_classes = []  # the signature is the gate; Stripe retries in bursts

    @extend_schema(
        operation_id="receiveStripeWebhook",
        summary="Receive a billing event (Stripe's webhook)",
        description="For Stripe only: the `Stripe-Signature` header is verified with the endpoint's secret. "
        "Authentic events answer 200 with what became of them (`applied`, `pending` until the customer is "
        "known, `ignored`; a replay answers the stored result). docs/playback.md#billing-stripe-webhook.",
        tags=["billing"],
        request={"application/json": OpenApiTypes.OBJECT},
        responses={200: BillingEventOutputSerializer},
        extensions=error_codes(
            {400: ["bad_signature", "malformed_event"], 409: ["billing_busy"], 503: ["billing_not_configured"]}
        ),
    )
    def post(self, request):
        event = billing.webhook_event_verify(payload=request.body, signature=request.headers.get("Stripe-Signature"))
        row = billing.billing_event_receive(event=event)
        return Response({"id": row.event_id, "type": row.type, "status": row.status, "note": row.note})


class EntitlementListView(APIView):
    """The products the user holds now (the union decides what plays) and until when."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="listMyEntitlements",
        summary="List the products you hold",
        description="Your entitlements in force (the union decides what plays): each product, where it came "
        "from (`admin`, `plan`, `billing`) and until when.",
        tags=["me"],
        responses={200: EntitlementOutputSerializer(many=True)},
    )
    def get(self, request):
        return Response(EntitlementOutputSerializer(entitlements.user_entitlements(user=request.user), many=True).data)


class LocationView(APIView):
    """The account's verified location (blackouts use it when the CDN does not say where a request comes
    from): a device check-in records where the CDN says this request comes from; never the body."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="getMyLocation",
        summary="Get your verified location",
        description="The region your last check-in verified (or staff set), when, and until when it counts "
        "for blackouts (`fresh`). None yet: `404 not_found`. docs/playback.md#blackouts.",
        tags=["me"],
        responses={200: LocationOutputSerializer},
        extensions=error_codes({404: ["not_found"]}),
    )
    def get(self, request):
        found = location.location_of(user=request.user)
        if found is None:
            raise NotFoundError("No verified location; check in with POST /api/v1/me/location/.")
        return Response(LocationOutputSerializer(found).data)

    @extend_schema(
        operation_id="checkInLocation",
        summary="Verify your location (device check-in)",
        description="Records the region the trusted CDN says this request comes from as your verified "
        "location, for `CSN_LOCATION_VERIFIED_DAYS` (30): playback uses it for blackouts when a later request "
        "carries no CDN region. The body is ignored: a region is never taken from the client. Without a "
        "CDN region on this request: `422 region_unavailable`, nothing changes. docs/playback.md#blackouts.",
        tags=["me"],
        request=None,
        responses={200: LocationOutputSerializer},
        extensions=error_codes({422: ["region_unavailable"]}),
    )
    def post(self, request):
        checked_in = location.location_check_in(user=request.user, meta=request.META)
        return Response(LocationOutputSerializer(checked_in).data)

    @extend_schema(
        operation_id="clearMyLocation",
        summary="Forget your verified location",
        description="Blackouts then know your region only from the CDN. Idempotent: 204 with or without one.",
        tags=["me"],
        request=None,
        responses={204: None},
    )
    def delete(self, request):
        location.location_clear(user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
