from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from content.api.serializers import ContentCardSerializer, content_card
from csn.api.serializers import InputSerializer
from streaming.viewing.models import MyListItem, Playlist, PlaylistItem, WatchProgress
from streaming.viewing.representation import progress_data
from streaming.viewing.selectors import (
    CONTINUE_WATCHING_DEFAULT_LIMIT,
    CONTINUE_WATCHING_MAX_LIMIT,
    PROGRESS_COLUMNS,
)
from streaming.viewing.services import PLAYLIST_TITLE_MAX_LENGTH


# Hot endpoints (PUT progress, Continue Watching) build these dicts directly: DRF's field machinery
# costs more than the query. test_representation keeps them equal to the serializers (the schema).
def progress_representation(progress: WatchProgress, *, with_content: bool = False, spoilers=None) -> dict:
    """ProgressSerializer (or ProgressWithContentSerializer) output, without the serializer. `spoilers`:
    the viewer's SpoilerPolicy (content.spoilers), for the card."""
    data = progress_data(progress)
    if with_content:
        data["content"] = content_card(progress.content, spoilers)
    return data


# --- Progress ---------------------------------------------------------------------------------


class ProgressInputSerializer(InputSerializer):
    position_seconds = serializers.FloatField()
    duration_seconds = serializers.FloatField()
    recorded_at = serializers.DateTimeField(help_text="The device's clock when it took the reading.")


class ProgressSerializer(serializers.ModelSerializer):
    class Meta:
        model = WatchProgress
        fields = PROGRESS_COLUMNS  # a progress renders exactly the columns its reads load
        read_only_fields = fields


class ProgressRecordOutputSerializer(ProgressSerializer):
    applied = serializers.BooleanField(
        help_text="False when the stored reading is as new or newer: the body is the stored state, unchanged."
    )

    class Meta(ProgressSerializer.Meta):
        fields = [*ProgressSerializer.Meta.fields, "applied"]
        read_only_fields = fields


class ProgressWithContentSerializer(ProgressSerializer):
    content = ContentCardSerializer()

    class Meta(ProgressSerializer.Meta):
        fields = [*ProgressSerializer.Meta.fields, "content"]
        read_only_fields = fields


class ContinueWatchingOutputSerializer(serializers.Serializer):
    results = ProgressWithContentSerializer(many=True)


class ContinueWatchingQuerySerializer(serializers.Serializer):
    limit = serializers.IntegerField(
        min_value=1, max_value=CONTINUE_WATCHING_MAX_LIMIT, default=CONTINUE_WATCHING_DEFAULT_LIMIT
    )


# --- My List ----------------------------------------------------------------------------------


class ContentIdInputSerializer(InputSerializer):
    content_id = serializers.IntegerField(min_value=1)


class MyListItemSerializer(serializers.ModelSerializer):
    added_at = serializers.DateTimeField(source="created_at")
    content = ContentCardSerializer()

    class Meta:
        model = MyListItem
        fields = ["content_id", "added_at", "content"]
        read_only_fields = fields


class MyListMembershipSerializer(serializers.Serializer):
    content_id = serializers.IntegerField()
    in_list = serializers.BooleanField()
    added_at = serializers.DateTimeField(allow_null=True)


# --- Playlists --------------------------------------------------------------------------------


class PlaylistCreateInputSerializer(InputSerializer):
    title = serializers.CharField(max_length=PLAYLIST_TITLE_MAX_LENGTH)
    shared = serializers.BooleanField(default=False)


class PlaylistUpdateInputSerializer(InputSerializer):
    title = serializers.CharField(max_length=PLAYLIST_TITLE_MAX_LENGTH, required=False)
    shared = serializers.BooleanField(required=False)


class PlaylistReorderInputSerializer(InputSerializer):
    item_ids = serializers.ListField(child=serializers.IntegerField(min_value=1), allow_empty=True, max_length=1000)


class PlaylistSerializer(serializers.ModelSerializer):
    shared = serializers.BooleanField(source="is_shared")
    share_token = serializers.CharField(allow_null=True)
    item_count = serializers.IntegerField(required=False)

    class Meta:
        model = Playlist
        fields = ["id", "title", "shared", "share_token", "item_count", "created_at", "updated_at"]
        read_only_fields = fields


class PlaylistItemSerializer(serializers.ModelSerializer):
    available = serializers.BooleanField(help_text="False: the item is no longer available; content is null.")
    content = serializers.SerializerMethodField()

    class Meta:
        model = PlaylistItem
        fields = ["id", "position", "content_id", "available", "added_at", "content"]
        read_only_fields = fields

    @extend_schema_field(ContentCardSerializer(allow_null=True))
    def get_content(self, obj):
        return content_card(obj.content, self.context.get("spoilers")) if obj.available else None


class PlaylistDetailSerializer(PlaylistSerializer):
    items = PlaylistItemSerializer(many=True, source="items_list")

    class Meta(PlaylistSerializer.Meta):
        fields = [f for f in PlaylistSerializer.Meta.fields if f != "item_count"] + ["items"]
        read_only_fields = fields


class SharedPlaylistItemSerializer(serializers.ModelSerializer):
    content = ContentCardSerializer()

    class Meta:
        model = PlaylistItem
        fields = ["id", "position", "content"]
        read_only_fields = fields


class SharedPlaylistSerializer(serializers.ModelSerializer):
    items = SharedPlaylistItemSerializer(many=True, source="items_list")

    class Meta:
        model = Playlist
        fields = ["title", "updated_at", "items"]
        read_only_fields = fields
