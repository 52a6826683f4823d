from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import FavoritePlayer, FavoriteTeam, Notification, Preferences, Subscription, User
from content.models import Player, Team


class RegisterInputSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(max_length=128, trim_whitespace=False)
    display_name = serializers.CharField(max_length=80)


class TokenInputSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(max_length=128, trim_whitespace=False)


class TokenOutputSerializer(serializers.Serializer):
    token = serializers.CharField()


class PasswordChangeInputSerializer(serializers.Serializer):
    current_password = serializers.CharField(max_length=128, trim_whitespace=False)
    new_password = serializers.CharField(max_length=128, trim_whitespace=False)


class PreferencesSerializer(serializers.ModelSerializer):
    class Meta:
        model = Preferences
        fields = ["language", "autoplay", "notify_game_live", "notify_new_content", "notify_announcements"]


class SubscriptionSerializer(serializers.ModelSerializer):
    is_premium = serializers.BooleanField(source="is_premium_active", read_only=True)

    class Meta:
        model = Subscription
        fields = ["plan", "status", "current_period_end", "is_premium"]
        read_only_fields = fields


class MeOutputSerializer(serializers.ModelSerializer):
    preferences = PreferencesSerializer()
    subscription = SubscriptionSerializer()

    class Meta:
        model = User
        fields = ["id", "email", "display_name", "avatar_url", "is_staff", "date_joined", "preferences", "subscription"]


class MeUpdateInputSerializer(serializers.Serializer):
    """Only these are the user's to change; anything else in the body is ignored."""

    display_name = serializers.CharField(max_length=80, required=False)
    avatar_url = serializers.URLField(max_length=500, required=False, allow_blank=True)
    preferences = PreferencesSerializer(required=False, partial=True)


# --- Favorites --------------------------------------------------------------------------------


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


# --- Notifications ----------------------------------------------------------------------------


class NotificationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Notification
        fields = ["id", "kind", "title", "body", "data", "read_at", "created_at"]
        read_only_fields = fields


class NotificationsReadAllOutputSerializer(serializers.Serializer):
    marked = serializers.IntegerField()
    unread_count = serializers.IntegerField()
