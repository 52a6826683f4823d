from django.conf import settings
from rest_framework import serializers


class EventInputSerializer(serializers.Serializer):
    """One app event. Documents the shape; the catalogue checks each event in the service."""

    name = serializers.CharField(help_text="A client event of the catalogue (docs/analytics.md)")
    properties = serializers.DictField(required=False, help_text="The event's properties, typed per the catalogue")
    timestamp = serializers.DateTimeField(
        required=False, help_text="When it happened on the device (ISO 8601); default: now. Up to 7 days old."
    )
    uuid = serializers.UUIDField(required=False, help_text="Set it to make a re-sent event count once")


class EventBatchInputSerializer(serializers.Serializer):
    events = serializers.ListField(
        child=serializers.JSONField(),
        min_length=1,
        max_length=settings.ANALYTICS_INTAKE_MAX_EVENTS,
        help_text="Up to 50 events, each shaped as EventInput",
    )


class EventBatchDocSerializer(serializers.Serializer):
    """The request body as documented in the schema."""

    events = EventInputSerializer(many=True)


class _ErrorItemSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()


class _PartialErrorSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    fields = serializers.DictField(
        child=_ErrorItemSerializer(many=True), help_text='Per event and field, e.g. "events.3.properties.content_id"'
    )


class EventBatchResultSerializer(serializers.Serializer):
    accepted = serializers.IntegerField(help_text="Events queued for delivery")
    rejected = serializers.IntegerField(help_text="Events refused; see error.fields")
    error = _PartialErrorSerializer(allow_null=True, help_text="Present when some events were refused")
