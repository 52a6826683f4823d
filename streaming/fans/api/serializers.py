from rest_framework import serializers

from content.api.serializers import PlayerSerializer, TeamSerializer
from csn.api.serializers import InputSerializer
from csn.representation import datetime_text
from streaming.fans.models import FavoritePlayer, FavoriteTeam, Notification
from streaming.fans.representation import notification_data, notification_reveals


class FavoriteTeamInputSerializer(InputSerializer):
    team_id = serializers.IntegerField(min_value=1)


class FavoritePlayerInputSerializer(InputSerializer):
    player_id = serializers.IntegerField(min_value=1)


class FavoriteTeamSerializer(serializers.ModelSerializer):
    team = TeamSerializer()

    class Meta:
        model = FavoriteTeam
        fields = ["team", "created_at"]
        read_only_fields = fields


class FavoritePlayerSerializer(serializers.ModelSerializer):
    player = PlayerSerializer()

    class Meta:
        model = FavoritePlayer
        fields = ["player", "created_at"]
        read_only_fields = fields


class NotificationSerializer(serializers.ModelSerializer):
    """Under spoiler-safe mode, a notification that could tell a held game's result (new highlights) says
    nothing: `spoiler_hidden` true, a neutral title, an empty body (expects `spoilers` in the context)."""

    spoiler_hidden = serializers.BooleanField(read_only=True)
    data = serializers.DictField(
        help_text="By `kind`: `game_live` {game_id}, `new_content` {content_id, content_type, game_id, "
        "reveals_result}, `announcement` {announcement_id}.",
    )

    class Meta:
        model = Notification
        fields = ["id", "kind", "title", "body", "data", "spoiler_hidden", "read_at", "created_at"]
        read_only_fields = fields

    def to_representation(self, notification):
        spoilers = self.context.get("spoilers")
        hidden = bool(spoilers and spoilers.holds_game_id(notification_reveals(notification)))
        data = notification_data(notification, hidden=hidden)
        return {**data, "read_at": datetime_text(notification.read_at)}


class NotificationsReadAllOutputSerializer(serializers.Serializer):
    marked = serializers.IntegerField()
    unread_count = serializers.IntegerField()
