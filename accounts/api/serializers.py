from rest_framework import serializers

from accounts.models import BillingEvent, Entitlement, Preferences, Product, Subscription, User, VerifiedLocation
from csn.api.serializers import InputSerializer, StrictTypesMixin


class RegisterInputSerializer(InputSerializer):
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(max_length=128, trim_whitespace=False)
    display_name = serializers.CharField(max_length=80)


class TokenInputSerializer(InputSerializer):
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(max_length=128, trim_whitespace=False)
    name = serializers.CharField(
        max_length=80, required=False, allow_blank=True, help_text="The device, for the user's device list."
    )


class _TokenSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)
    expires_at = serializers.DateTimeField(read_only=True, help_text="Refresh before this; after it, sign in again.")


class DeviceTokenSerializer(_TokenSerializer):
    """A signed-in device, as the device list shows it (never its secret)."""

    last_used_at = serializers.DateTimeField(read_only=True, allow_null=True)
    current = serializers.SerializerMethodField(help_text="Whether this is the token of the request itself.")

    def get_current(self, token) -> bool:
        return token.pk == self.context.get("current_id")


class TokenOutputSerializer(_TokenSerializer):
    """A token just issued or refreshed: its secret is shown this once."""

    token = serializers.CharField(
        source="key", read_only=True, help_text="The secret: `Authorization: Bearer <token>`."
    )


class PasswordChangeInputSerializer(InputSerializer):
    current_password = serializers.CharField(max_length=128, trim_whitespace=False)
    new_password = serializers.CharField(max_length=128, trim_whitespace=False)


class PreferencesSerializer(StrictTypesMixin, serializers.ModelSerializer):
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
    avatar_url = serializers.URLField(read_only=True, allow_blank=True)
    preferences = PreferencesSerializer()
    subscription = SubscriptionSerializer()

    class Meta:
        model = User
        fields = ["id", "email", "display_name", "avatar_url", "is_staff", "date_joined", "preferences", "subscription"]


class RegisterOutputSerializer(MeOutputSerializer):
    """The new account and its API token."""

    token = serializers.CharField(read_only=True, help_text="Send it as `Authorization: Token <token>`.")

    class Meta(MeOutputSerializer.Meta):
        fields = [*MeOutputSerializer.Meta.fields, "token"]


class MeUpdateInputSerializer(InputSerializer):
    """Only these are the user's to change; anything else in the body is ignored."""

    display_name = serializers.CharField(max_length=80, required=False)
    avatar_url = serializers.URLField(max_length=500, required=False, allow_blank=True)
    preferences = PreferencesSerializer(required=False, partial=True)


class ProductOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = Product
        fields = ["code", "name", "kind", "max_streams"]


class EntitlementOutputSerializer(serializers.ModelSerializer):
    product = ProductOutputSerializer()

    class Meta:
        model = Entitlement
        fields = ["product", "source", "starts_at", "ends_at"]


class BillingEventOutputSerializer(serializers.Serializer):
    id = serializers.CharField(help_text="The provider's event id")
    type = serializers.CharField()
    status = serializers.ChoiceField(choices=BillingEvent.Status.choices)
    note = serializers.CharField()


class LocationOutputSerializer(serializers.ModelSerializer):
    """The account's verified location: what blackouts use when the CDN does not say where a request
    comes from, while `fresh`."""

    fresh = serializers.SerializerMethodField(help_text="Counts for blackouts now (verified and not expired)")

    class Meta:
        model = VerifiedLocation
        fields = ["country", "subdivision", "postal_code", "source", "verified_at", "expires_at", "fresh"]
        read_only_fields = fields

    def get_fresh(self, location) -> bool:
        return location.is_fresh()
