from rest_framework import serializers

from content.api.serializers import PlayerSerializer, TeamSerializer
from csn.api.serializers import InputSerializer
from streaming.fans.models import FavoritePlayer, FavoriteTeam, Notification


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
    data = serializers.DictField(
        child=serializers.IntegerField(),
        help_text="By `kind`: `game_live` {game_id}, `new_content` {content_id}, `announcement` {announcement_id}.",
    )

    class Meta:
        model = Notification
        fields = ["id", "kind", "title", "body", "data", "read_at", "created_at"]
        read_only_fields = fields


class NotificationsReadAllOutputSerializer(serializers.Serializer):
    marked = serializers.IntegerField()
    unread_count = serializers.IntegerField()
