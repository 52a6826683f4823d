from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import generics, status
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import AllowAny, BasePermission, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.entitlements import user_grants
from content import selectors
from content.api.filters import (
    CONTENT_SEARCH_DOCUMENT,
    CatalogueFilterBackend,
    CatalogueSearchFilter,
    ContentFilter,
    GameFilter,
    PlayerFilter,
    StrictOrderingFilter,
    TeamFilter,
)
from content.api.first_page import FirstPageStatementMixin
from content.api.serializers import (
    ContentSerializer,
    GameDetailSerializer,
    GameSerializer,
    GameSpoilerInputSerializer,
    GameSpoilerSerializer,
    MediaAssetSerializer,
    MediaDirectUploadInputSerializer,
    MediaUploadStartInputSerializer,
    MediaUploadStartOutputSerializer,
    PlayerSerializer,
    SpoilerPreferenceSerializer,
    TeamSerializer,
    TransitionInputSerializer,
)
from content.models import Content, Player, Team
from content.services.cache import CONTENT, GAMES, PLAYERS, TEAMS, generation_keys, generation_of
from content.services.media import media_upload_confirm, media_upload_receive, media_upload_start
from content.services.rights import entitlement_variant
from content.services.workflow import content_transition
from content.spoilers import game_spoiler_set, spoiler_preference_set, spoilers_active, spoilers_for
from csn.api.caching import CachedReadMixin
from csn.api.deprecation import DeprecatedParametersMixin
from csn.api.idempotency import idempotent
from csn.api.pagination import CursorPagination
from csn.api.schema import error_codes
from csn.errors import NotFoundError

CATALOGUE_FILTERS = [CatalogueFilterBackend, CatalogueSearchFilter, StrictOrderingFilter]


class CatalogueCache(CachedReadMixin):
    """A catalogue read kept in the server's cache per entitlement variant (content.services.rights), under
    the versions of the `families` it shows (content.services.cache). Staff, who see every state, are
    never cached where the answer shows content; elsewhere every reader gets the same answer. A viewer in
    spoiler-safe mode (content.spoilers) gets answers of their own: never cached, no ETag, `private`, so a
    spoiler-safe answer is never shared and a spoiling one never served to them."""

    families: tuple[str, ...] = ()
    by_variant = True
    spoiler_sensitive = True  # the answer can show a result (a score, a revealing item)

    def cache_variant(self, request):
        if self.spoiler_sensitive and spoilers_active(request.user):
            return None
        if not self.by_variant:
            return "all"
        if request.user.is_authenticated and request.user.is_staff:
            return None
        return entitlement_variant(user_grants(user=request.user))

    def cache_generation_keys(self):
        return generation_keys(self.families)

    def cache_generation_of(self, values):
        return generation_of(self.families, values)


# The columns the hand-built representations read (content.api.serializers): a first page's statement
# loads only these (content.api.first_page).
TEAM_BRIEF_COLUMNS = ("id", "name", "slug", "sport")
TEAM_COLUMNS = (*TEAM_BRIEF_COLUMNS, "logo")

# Live scores change games every few seconds: shared caches keep them briefly.
LIVE_SHARED_MAX_AGE = 5


@extend_schema_view(
    get=extend_schema(
        operation_id="listContent",
        summary="List catalogue items",
        description="Published items inside their availability window (staff: every item, any state), "
        "cursor-paginated. A premium item's `video_url` only for an active premium subscriber.",
        parameters=[
            OpenApiParameter("premium", OpenApiTypes.BOOL, description="Premium items only (`true`) or none."),
            OpenApiParameter(
                "published_after",
                OpenApiTypes.DATE,
                deprecated=True,
                description="Deprecated alias of `published_from` (answers carry `Deprecation` and `Sunset`).",
            ),
            OpenApiParameter(
                "published_before",
                OpenApiTypes.DATE,
                deprecated=True,
                description="Deprecated alias of `published_to` (answers carry `Deprecation` and `Sunset`).",
            ),
        ],
        extensions=error_codes({400: ["search_too_long", "search_too_many_terms"]}),
    )
)
class ContentListView(CatalogueCache, DeprecatedParametersMixin, FirstPageStatementMixin, generics.ListAPIView):
    """Published items inside their availability window (staff: every item, any state)."""

    deprecated_parameters = {"published_after": "published_from", "published_before": "published_to"}

    permission_classes = [AllowAny]
    serializer_class = ContentSerializer
    filter_backends = CATALOGUE_FILTERS
    filterset_class = ContentFilter
    search_fields = ["title", "description"]  # SQLite; PostgreSQL searches the document
    search_document = CONTENT_SEARCH_DOCUMENT
    ordering_fields = ["published_at", "created_at", "title", "runtime_seconds"]
    pagination_class = CursorPagination.ordered_by("-published_at", "-id")
    families = (CONTENT, TEAMS, PLAYERS)

    @property
    def ordering(self):
        # Staff lists include drafts, which have no publication date to page by.
        if self.request.user.is_staff:
            return ("-created_at", "-id")
        return ("-published_at", "-id")

    def get_queryset(self):
        return selectors.content_visible_to(user=self.request.user).select_related("game")

    def filter_queryset(self, queryset):
        return self.ordered_queryset(super().filter_queryset(queryset))

    def ordered_queryset(self, queryset):
        if any(term.lstrip("-") == "published_at" for term in queryset.query.order_by):
            queryset = queryset.filter(published_at__isnull=False)
        return queryset

    # Its first page as a constant statement (content.api.first_page): per kind of reader, time-bound.
    statement_timed = True

    def statement_staff(self, request) -> bool:
        return bool(request.user.is_authenticated and request.user.is_staff)

    def statement_alias(self) -> str:
        return Content.objects.db

    def statement_queryset(self, *, staff: bool, now):
        return selectors.content_visible(staff=staff, now=now).select_related("game")

    def get_serializer_context(self):
        return {
            **super().get_serializer_context(),
            "grants": user_grants(user=self.request.user),
            "spoilers": spoilers_for(self.request.user),
        }


@extend_schema_view(
    get=extend_schema(
        operation_id="getContent",
        summary="Get a catalogue item",
        description="One item; not published or outside its availability window is a 404 (staff see all).",
        responses={200: ContentSerializer},
    )
)
class ContentDetailView(CatalogueCache, APIView):
    permission_classes = [AllowAny]
    families = (CONTENT, TEAMS, PLAYERS)

    def read(self, request, pk: int):
        content = selectors.access_content(user=request.user, content_id=pk)
        context = {"grants": user_grants(user=request.user), "spoilers": spoilers_for(request.user)}
        return Response(ContentSerializer(content, context=context).data)


class ContentTransitionView(APIView):
    """Move an item along the editorial workflow; the same service as the admin's buttons and actions."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="transitionContent",
        summary="Move an item along the editorial workflow",
        description="Staff: submit, publish, reject, unpublish or archive, with a `note` kept in the item's "
        "history (docs/cms.md).",
        request=TransitionInputSerializer,
        responses={200: ContentSerializer},
        extensions=error_codes(
            {400: ["illegal_transition", "reason_required"], 403: ["not_allowed"], 409: ["state_changed"]}
        ),
    )
    @idempotent
    def post(self, request, pk: int):
        content = selectors.access_content(user=request.user, content_id=pk)
        data = TransitionInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        content_transition(
            content=content,
            actor=request.user,
            name=data.validated_data["transition"],
            note=data.validated_data["note"],
        )
        content = selectors.access_content(user=request.user, content_id=pk)
        context = {"grants": user_grants(user=request.user), "spoilers": spoilers_for(request.user)}
        return Response(ContentSerializer(content, context=context).data)


SEARCH_CODES = error_codes({400: ["search_too_long", "search_too_many_terms"]})


@extend_schema_view(
    get=extend_schema(
        operation_id="listTeams",
        summary="List teams",
        description="By name, cursor-paginated.",
        extensions=SEARCH_CODES,
    )
)
class TeamListView(CatalogueCache, FirstPageStatementMixin, generics.ListAPIView):
    permission_classes = [AllowAny]
    serializer_class = TeamSerializer
    queryset = Team.objects.all()
    filter_backends = CATALOGUE_FILTERS
    filterset_class = TeamFilter
    search_fields = ["name"]
    ordering_fields = ["name", "created_at"]
    ordering = ("name", "id")
    pagination_class = CursorPagination.ordered_by("name", "id")
    families = (TEAMS,)
    by_variant = False
    spoiler_sensitive = False
    statement_columns = TEAM_COLUMNS


@extend_schema_view(
    get=extend_schema(
        operation_id="listPlayers",
        summary="List players",
        description="By name, cursor-paginated, each with their team.",
        extensions=SEARCH_CODES,
    )
)
class PlayerListView(CatalogueCache, FirstPageStatementMixin, generics.ListAPIView):
    permission_classes = [AllowAny]
    serializer_class = PlayerSerializer
    queryset = Player.objects.select_related("team")
    filter_backends = CATALOGUE_FILTERS
    filterset_class = PlayerFilter
    search_fields = ["name", "team__name"]
    ordering_fields = ["name", "number", "created_at"]
    ordering = ("name", "id")
    pagination_class = CursorPagination.ordered_by("name", "id")
    families = (PLAYERS, TEAMS)
    by_variant = False
    spoiler_sensitive = False
    statement_columns = ("id", "name", "number", "position", "team", *(f"team__{c}" for c in TEAM_COLUMNS))


@extend_schema_view(
    get=extend_schema(
        operation_id="listGames",
        summary="List games",
        description="The schedule: by start time, soonest first unless `?ordering=-starts_at`, cursor-paginated.",
        extensions=SEARCH_CODES,
    )
)
class GameListView(CatalogueCache, FirstPageStatementMixin, generics.ListAPIView):
    """The schedule: by start time, soonest first unless `?ordering=-starts_at`."""

    permission_classes = [AllowAny]
    serializer_class = GameSerializer
    filter_backends = CATALOGUE_FILTERS
    filterset_class = GameFilter
    search_fields = ["home_team__name", "away_team__name", "venue"]
    ordering_fields = ["starts_at", "created_at"]
    ordering = ("starts_at", "id")
    pagination_class = CursorPagination.ordered_by("starts_at", "id")
    families = (GAMES, TEAMS)
    by_variant = False
    shared_max_age = stale_while_revalidate = LIVE_SHARED_MAX_AGE
    statement_columns = (
        *("id", "sport", "venue", "starts_at", "status", "home_score", "away_score", "period", "clock"),
        *("home_team", *(f"home_team__{c}" for c in TEAM_BRIEF_COLUMNS)),
        *("away_team", *(f"away_team__{c}" for c in TEAM_BRIEF_COLUMNS)),
    )

    def get_queryset(self):
        return selectors.games_with_teams()

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "spoilers": spoilers_for(self.request.user)}


@extend_schema_view(
    get=extend_schema(
        operation_id="getGame",
        summary="Get a game",
        description="A game with its teams, score, period, clock and the items linked to it that the caller may see.",
        responses={200: GameDetailSerializer},
    )
)
class GameDetailView(CatalogueCache, APIView):
    permission_classes = [AllowAny]
    families = (GAMES, TEAMS, CONTENT, PLAYERS)
    shared_max_age = stale_while_revalidate = LIVE_SHARED_MAX_AGE

    def read(self, request, pk: int):
        game = selectors.game_with_teams(pk)
        if game is None:
            raise NotFoundError("Not found.")
        context = {
            "grants": user_grants(user=request.user),
            "game_content": selectors.game_content_visible_to(user=request.user, game=game),
            "spoilers": spoilers_for(request.user),
        }
        return Response(GameDetailSerializer(game, context=context).data)


# --- media uploads (editors) ----------------------------------------------------------------


class CanUploadMedia(BasePermission):
    message = "Only editors and publishers handle media."

    def has_permission(self, request, view):
        user = request.user
        return bool(user and user.is_authenticated and user.is_staff and user.has_perm("content.add_mediaasset"))


class MediaUploadStartView(APIView):
    """Reserve an asset and get where to send its bytes (a presigned bucket POST, or our direct endpoint)."""

    permission_classes = [CanUploadMedia]

    @extend_schema(
        operation_id="startMediaUpload",
        summary="Start a media upload",
        description="Editors: reserve an asset and get where to send its bytes (a presigned bucket POST, or "
        "`uploadMediaFile` with local storage).",
        request=MediaUploadStartInputSerializer,
        responses={201: MediaUploadStartOutputSerializer},
        extensions=error_codes({400: ["unsupported_media_type", "file_too_large", "empty_file"]}),
    )
    @idempotent
    def post(self, request):
        data = MediaUploadStartInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        asset, upload = media_upload_start(actor=request.user, **data.validated_data)
        return Response({"asset": MediaAssetSerializer(asset).data, "upload": upload}, status=status.HTTP_201_CREATED)


class MediaAssetView(APIView):
    permission_classes = [CanUploadMedia]

    @extend_schema(
        operation_id="getMediaAsset",
        summary="Get a media asset",
        description="Editors: the asset and its upload `status` and `error`.",
        responses={200: MediaAssetSerializer},
    )
    def get(self, request, pk: int):
        asset = selectors.access_media_asset(user=request.user, asset_id=pk)
        return Response(MediaAssetSerializer(asset).data)


class MediaDirectUploadView(APIView):
    """Local storage: the file itself, as multipart field `file` (the bucket's role in S3 mode)."""

    permission_classes = [CanUploadMedia]
    parser_classes = [MultiPartParser]

    @extend_schema(
        operation_id="uploadMediaFile",
        summary="Upload a media file (local storage)",
        description="Local storage only: the bytes, as multipart field `file`.",
        request={"multipart/form-data": MediaDirectUploadInputSerializer},
        responses={200: MediaAssetSerializer},
        extensions=error_codes(
            {400: ["size_mismatch", "type_mismatch", "direct_upload_unavailable"], 409: ["not_pending"]}
        ),
    )
    def post(self, request, pk: int):
        asset = selectors.access_media_asset(user=request.user, asset_id=pk)
        data = MediaDirectUploadInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        asset = media_upload_receive(actor=request.user, asset=asset, file=data.validated_data["file"])
        return Response(MediaAssetSerializer(asset).data)


class MediaUploadConfirmView(APIView):
    """The bytes are uploaded: check them in storage; the asset becomes `uploaded`, or `failed` with why (422)."""

    permission_classes = [CanUploadMedia]

    @extend_schema(
        operation_id="confirmMediaUpload",
        summary="Confirm a media upload",
        description="Checks the bytes in storage: the asset becomes `uploaded`, or `failed` with why (422). "
        "Confirming an uploaded asset again returns it.",
        request=None,
        responses={200: MediaAssetSerializer},
        extensions=error_codes({409: ["not_pending"], 422: ["upload_missing", "size_mismatch", "type_mismatch"]}),
    )
    def post(self, request, pk: int):
        asset = selectors.access_media_asset(user=request.user, asset_id=pk)
        asset = media_upload_confirm(actor=request.user, asset=asset)
        return Response(MediaAssetSerializer(asset).data)


# --- spoiler-safe mode (content.spoilers) -----------------------------------------------------------


class SpoilerPreferenceView(APIView):
    """Your spoiler-safe mode: results hidden for every game, or for the games of chosen teams."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="getSpoilerPreference",
        summary="Get your spoiler-safe mode",
        description="off, all (every game) or teams (the games of `teams`): results you have not reached are "
        "hidden (`score_hidden`, `spoiler_hidden`).",
        tags=["spoilers"],
        responses={200: SpoilerPreferenceSerializer},
    )
    def get(self, request):
        policy = spoilers_for(request.user).load()
        return Response({"mode": policy.mode, "teams": sorted(policy.teams)})

    @extend_schema(
        operation_id="setSpoilerPreference",
        summary="Set your spoiler-safe mode",
        description="`mode` off, all or teams; `teams` (ids) with mode teams.",
        tags=["spoilers"],
        request=SpoilerPreferenceSerializer,
        responses={200: SpoilerPreferenceSerializer},
        extensions=error_codes({400: ["teams_required", "unknown_team"]}),
    )
    def put(self, request):
        data = SpoilerPreferenceSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        preference = spoiler_preference_set(
            user=request.user, mode=data.validated_data["mode"], team_ids=data.validated_data["teams"]
        )
        return Response({"mode": preference.mode, "teams": sorted(preference.teams.values_list("id", flat=True))})


class GameSpoilerView(APIView):
    """One game: watching it later (its result hidden whatever your mode), or revealed."""

    permission_classes = [IsAuthenticated]

    def _answer(self, request, game_id: int):
        game = selectors.games_with_teams().filter(pk=game_id).first()
        if game is None:
            raise NotFoundError("No such game.")
        policy = spoilers_for(request.user).load()
        state = policy.choices.get(game.pk, "default")
        return Response({"game": game.pk, "state": state, "score_hidden": policy.holds(game)})

    @extend_schema(
        operation_id="getGameSpoiler",
        summary="Get your spoiler choice for a game",
        description="watch_later, revealed or default (your preference decides), and whether the result is hidden.",
        tags=["spoilers"],
        responses={200: GameSpoilerSerializer},
    )
    def get(self, request, pk: int):
        return self._answer(request, pk)

    @extend_schema(
        operation_id="setGameSpoiler",
        summary="Watch a game later, or reveal it",
        description="watch_later hides the game's result whatever your mode; revealed shows it; default follows "
        "your preference.",
        tags=["spoilers"],
        request=GameSpoilerInputSerializer,
        responses={200: GameSpoilerSerializer},
    )
    def put(self, request, pk: int):
        data = GameSpoilerInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        state = data.validated_data["state"]
        game_spoiler_set(user=request.user, game_id=pk, state=None if state == "default" else state)
        return self._answer(request, pk)
