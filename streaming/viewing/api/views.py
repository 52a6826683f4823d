"""Viewer-state endpoints. Thin: parse, call a service or selector, render. Always the request's user."""

from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from content.spoilers import spoilers_for
from csn.api.idempotency import idempotent
from csn.api.pagination import CursorPagination, paginated_response
from csn.api.schema import error_codes
from csn.errors import NotFoundError
from streaming.viewing import selectors, services
from streaming.viewing.api.serializers import (
    ContentIdInputSerializer,
    ContinueWatchingOutputSerializer,
    ContinueWatchingQuerySerializer,
    MyListItemSerializer,
    MyListMembershipSerializer,
    PlaylistCreateInputSerializer,
    PlaylistDetailSerializer,
    PlaylistItemSerializer,
    PlaylistReorderInputSerializer,
    PlaylistSerializer,
    PlaylistUpdateInputSerializer,
    ProgressInputSerializer,
    ProgressRecordOutputSerializer,
    ProgressSerializer,
    ProgressWithContentSerializer,
    SharedPlaylistSerializer,
    progress_representation,
)

# --- Progress ---------------------------------------------------------------------------------


class ProgressView(APIView):
    @extend_schema(
        operation_id="getProgress",
        summary="Get your progress in an item",
        description="The stored reading of the item for the signed-in user.",
        responses={200: ProgressSerializer},
        extensions=error_codes({404: ["no_progress"]}),
    )
    def get(self, request, content_id: int):
        progress = selectors.progress_get(user=request.user, content_id=content_id)
        if progress is None:
            raise NotFoundError("No progress for this item.", code="no_progress")
        return Response(ProgressSerializer(progress).data)

    @extend_schema(
        operation_id="recordProgress",
        summary="Record your progress in an item",
        request=ProgressInputSerializer,
        responses={200: ProgressRecordOutputSerializer},
        extensions=error_codes({400: ["invalid_position", "invalid_duration", "position_past_end"]}),
        examples=[
            OpenApiExample(
                "A reading",
                value={"position_seconds": 61.5, "duration_seconds": 600, "recorded_at": "2026-12-03T12:00:00Z"},
                request_only=True,
            )
        ],
        description="Record a reading. One upsert; an older reading than the stored one changes nothing "
        "and answers the stored state with `applied: false`. Completed at >= 90%.",
    )
    def put(self, request, content_id: int):
        data = ProgressInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        result = services.progress_record(user=request.user, content_id=content_id, **data.validated_data)
        return Response({**progress_representation(result.progress), "applied": result.applied})


class ContinueWatchingView(APIView):
    @extend_schema(
        operation_id="listContinueWatching",
        summary="List Continue Watching",
        description="Unfinished items, newest first, with their cards; `limit` 1-50.",
        parameters=[ContinueWatchingQuerySerializer],
        responses={200: ContinueWatchingOutputSerializer},
    )
    def get(self, request):
        if request.query_params:
            query = ContinueWatchingQuerySerializer(data=request.query_params)
            query.is_valid(raise_exception=True)
            limit = query.validated_data["limit"]
        else:  # what the serializer answers for no parameters, without building it on every app launch
            limit = selectors.CONTINUE_WATCHING_DEFAULT_LIMIT
        items = selectors.continue_watching_items(user=request.user, limit=limit)
        spoilers = spoilers_for(request.user)
        return Response(
            {"results": [progress_representation(item, with_content=True, spoilers=spoilers) for item in items]}
        )


class HistoryView(APIView):
    pagination_class = CursorPagination.ordered_by("-last_watched_at", "-id")

    @extend_schema(
        operation_id="listHistory",
        summary="List your watch history",
        description="Everything watched, newest first, cursor-paginated, with the items' cards.",
        responses={200: ProgressWithContentSerializer(many=True)},
    )
    def get(self, request):
        return paginated_response(
            view=self,
            queryset=selectors.history(user=request.user),
            serializer_class=ProgressWithContentSerializer,
            context={"spoilers": spoilers_for(request.user)},
        )

    @extend_schema(
        operation_id="clearHistory",
        summary="Clear your watch history",
        description="Forgets every item's progress; the user's other devices get `history.cleared`.",
        request=None,
        responses={204: None},
    )
    def delete(self, request):
        services.history_clear(user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class HistoryEntryView(APIView):
    @extend_schema(
        operation_id="deleteHistoryEntry",
        summary="Forget one item of your history",
        description="The user's other devices get `progress.deleted`.",
        request=None,
        responses={204: None},
        extensions=error_codes({404: ["not_in_history"]}),
    )
    def delete(self, request, content_id: int):
        services.history_entry_delete(user=request.user, content_id=content_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- My List ----------------------------------------------------------------------------------


class MyListView(APIView):
    pagination_class = CursorPagination.ordered_by("-created_at", "-id")

    @extend_schema(
        operation_id="listMyList",
        summary="List My List",
        description="The saved items, newest first, cursor-paginated, with their cards.",
        responses={200: MyListItemSerializer(many=True)},
    )
    def get(self, request):
        return paginated_response(
            view=self,
            queryset=selectors.my_list(user=request.user),
            serializer_class=MyListItemSerializer,
            context={"spoilers": spoilers_for(request.user)},
        )

    @extend_schema(
        operation_id="addToMyList",
        summary="Add an item to My List",
        description="Idempotent: 201 when added, 200 when it was already in the list.",
        request=ContentIdInputSerializer,
        responses={201: MyListItemSerializer, 200: MyListItemSerializer},
        extensions=error_codes({404: ["not_found"]}),  # the content
    )
    def post(self, request):
        data = ContentIdInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        item, created = services.my_list_add(user=request.user, content_id=data.validated_data["content_id"])
        return Response(
            MyListItemSerializer(item, context={"spoilers": spoilers_for(request.user)}).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class MyListItemView(APIView):
    @extend_schema(
        operation_id="getMyListMembership",
        summary="Is an item in My List",
        description="`in_list` and, when it is, `added_at`.",
        responses={200: MyListMembershipSerializer},
    )
    def get(self, request, content_id: int):
        item = services.my_list_contains(user=request.user, content_id=content_id)
        body = {"content_id": content_id, "in_list": item is not None, "added_at": item.created_at if item else None}
        return Response(MyListMembershipSerializer(body).data)

    @extend_schema(
        operation_id="removeFromMyList",
        summary="Remove an item from My List",
        description="Idempotent: 204 whether or not it was there.",
        request=None,
        responses={204: None},
    )
    def delete(self, request, content_id: int):
        services.my_list_remove(user=request.user, content_id=content_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- Playlists --------------------------------------------------------------------------------


def _playlist_detail(playlist, user) -> dict:
    playlist.items_list = selectors.playlist_items(playlist=playlist, user=user)
    return PlaylistDetailSerializer(playlist, context={"spoilers": spoilers_for(user)}).data


class PlaylistListView(APIView):
    pagination_class = CursorPagination.ordered_by("-updated_at", "-id")

    @extend_schema(
        operation_id="listPlaylists",
        summary="List your playlists",
        description="Most recently changed first, cursor-paginated, with `item_count`.",
        responses={200: PlaylistSerializer(many=True)},
    )
    def get(self, request):
        return paginated_response(
            view=self, queryset=selectors.playlists(user=request.user), serializer_class=PlaylistSerializer
        )

    @extend_schema(
        operation_id="createPlaylist",
        summary="Create a playlist",
        description="An empty playlist; `shared: true` gives it a link token at once. Idempotency-Key supported.",
        request=PlaylistCreateInputSerializer,
        responses={201: PlaylistDetailSerializer},
        examples=[OpenApiExample("A playlist", value={"title": "Road trip", "shared": False}, request_only=True)],
    )
    @idempotent
    def post(self, request):
        data = PlaylistCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        playlist = services.playlist_create(user=request.user, **data.validated_data)
        return Response(_playlist_detail(playlist, request.user), status=status.HTTP_201_CREATED)


class PlaylistDetailView(APIView):
    def _get(self, request, playlist_id):
        return selectors.access_playlist(user=request.user, playlist_id=playlist_id)

    @extend_schema(
        operation_id="getPlaylist",
        summary="Get a playlist",
        description="The playlist with its items in order; an item no longer available has `content: null`.",
        responses={200: PlaylistDetailSerializer},
        extensions=error_codes({404: ["playlist_not_found"]}),
    )
    def get(self, request, playlist_id: int):
        return Response(_playlist_detail(self._get(request, playlist_id), request.user))

    @extend_schema(
        operation_id="updatePlaylist",
        summary="Rename, share or unshare a playlist",
        description="Rename and/or share (`shared: true` issues a new link token) or unshare.",
        request=PlaylistUpdateInputSerializer,
        responses={200: PlaylistDetailSerializer},
        extensions=error_codes({404: ["playlist_not_found"]}),
    )
    def patch(self, request, playlist_id: int):
        data = PlaylistUpdateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        playlist = services.playlist_update(user=request.user, playlist_id=playlist_id, **data.validated_data)
        return Response(_playlist_detail(playlist, request.user))

    @extend_schema(
        operation_id="deletePlaylist",
        summary="Delete a playlist",
        description="The playlist and its items; a shared link stops working.",
        request=None,
        responses={204: None},
        extensions=error_codes({404: ["playlist_not_found"]}),
    )
    def delete(self, request, playlist_id: int):
        services.playlist_delete(user=request.user, playlist_id=playlist_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class PlaylistItemsView(APIView):
    @extend_schema(
        operation_id="addPlaylistItem",
        summary="Append an item to a playlist",
        description="Idempotent: 201 when added, 200 with the existing item when it is already there. At "
        "most 500 items.",
        request=ContentIdInputSerializer,
        responses={201: PlaylistItemSerializer, 200: PlaylistItemSerializer},
        extensions=error_codes({400: ["playlist_full"], 404: ["playlist_not_found", "not_found"]}),
    )
    def post(self, request, playlist_id: int):
        data = ContentIdInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        item, created = services.playlist_item_add(
            user=request.user, playlist_id=playlist_id, content_id=data.validated_data["content_id"]
        )
        item.available = True  # the service only adds content this user may see
        return Response(
            PlaylistItemSerializer(item, context={"spoilers": spoilers_for(request.user)}).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class PlaylistItemView(APIView):
    @extend_schema(
        operation_id="removePlaylistItem",
        summary="Remove an item from a playlist",
        description="The other items keep their order.",
        request=None,
        responses={204: None},
        extensions=error_codes({404: ["playlist_not_found", "item_not_found"]}),
    )
    def delete(self, request, playlist_id: int, item_id: int):
        services.playlist_item_remove(user=request.user, playlist_id=playlist_id, item_id=item_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class PlaylistOrderView(APIView):
    @extend_schema(
        operation_id="reorderPlaylist",
        summary="Reorder a playlist",
        description="Set the order: `item_ids` must list every item of the playlist exactly once.",
        request=PlaylistReorderInputSerializer,
        responses={200: PlaylistDetailSerializer},
        extensions=error_codes({400: ["not_a_permutation"], 404: ["playlist_not_found"]}),
    )
    def put(self, request, playlist_id: int):
        data = PlaylistReorderInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.playlist_reorder(user=request.user, playlist_id=playlist_id, item_ids=data.validated_data["item_ids"])
        playlist = selectors.access_playlist(user=request.user, playlist_id=playlist_id)
        return Response(_playlist_detail(playlist, request.user))


class SharedPlaylistView(APIView):
    """Anyone with the link reads a shared playlist: its title and its available items only."""

    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="getSharedPlaylist",
        summary="Read a shared playlist",
        description="Anyone with the link, signed in or not: the title and the available items only.",
        responses={200: SharedPlaylistSerializer},
        parameters=[OpenApiParameter("token", str, OpenApiParameter.PATH)],
        extensions=error_codes({404: ["playlist_not_found"]}),
    )
    def get(self, request, token: str):
        playlist = selectors.access_shared_playlist(token=token)
        # Readers see what any viewer may see, whoever they are.
        playlist.items_list = selectors.playlist_available_items(playlist=playlist, user=None)
        return Response(SharedPlaylistSerializer(playlist, context={"spoilers": spoilers_for(request.user)}).data)
