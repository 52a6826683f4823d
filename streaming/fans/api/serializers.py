from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from content.models import Player, Team
from streaming.fans.models import FavoritePlayer, FavoriteTeam, Notification


class TeamSummarySerializer(serializers.ModelSerializer):
    logo_url = serializers.SerializerMethodField()

    class Meta:
        model = Team
        fields = ["id", "name", "slug", "sport", "logo_url"]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.URI)
    def get_logo_url(self, obj) -> str | None:
        return obj.logo.url if obj.logo else None


class PlayerSummarySerializer(serializers.ModelSerializer):
    team = TeamSummarySerializer()

    class Meta:
        model = Player
        fields = ["id", "name", "number", "position", "team"]
        read_only_fields = fields


class FavoriteTeamInputSerializer(serializers.Serializer):
    team_id = serializers.IntegerField(min_value=1)


class FavoritePlayerInputSerializer(serializers.Serializer):
    player_id = serializers.IntegerField(min_value=1)


class FavoriteTeamSerializer(serializers.ModelSerializer):
    team = TeamSummarySerializer()

    class Meta:
        model = FavoriteTeam
        fields = ["team", "created_at"]
        read_only_fields = fields


class FavoritePlayerSerializer(serializers.ModelSerializer):
    player = PlayerSummarySerializer()

    class Meta:
        model = FavoritePlayer
        fields = ["player", "created_at"]
        read_only_fields = fields


class NotificationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Notification
        fields = ["id", "kind", "title", "body", "data", "read_at", "created_at"]
        read_only_fields = fields


class NotificationsReadAllOutputSerializer(serializers.Serializer):
    marked = serializers.IntegerField()
    unread_count = serializers.IntegerField()
