from collections.abc import Mapping

from django.conf import settings
from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail, ValidationError
from rest_framework.settings import api_settings


class EventInputSerializer(serializers.Serializer):
    """One app event. Documents the shape; the catalogue checks each event in the service."""

    name = serializers.CharField(help_text="A client event of the catalogue (docs/analytics.md)")
    properties = serializers.DictField(required=False, help_text="The event's properties, typed per the catalogue")
    timestamp = serializers.DateTimeField(
        required=False, help_text="When it happened on the device (ISO 8601); default: now. Up to 7 days old."
    )
    uuid = serializers.UUIDField(required=False, help_text="Set it to make a re-sent event count once")


def batch_events(data) -> list:
    """The request body's `events` list, checked as DRF's `ListField(min_length=1, max_length=50)` in a
    Serializer checks it, with the same error codes, messages and field names (a test compares them).
    Plain code because the field machinery cost ~5 us per event before the catalogue even looks at one;
    each event is then validated against the catalogue by the service."""
    if data is None:
        raise ValidationError({api_settings.NON_FIELD_ERRORS_KEY: [ErrorDetail("No data provided", code="null")]})
    if not isinstance(data, Mapping):
        message = f"Invalid data. Expected a dictionary, but got {type(data).__name__}."
        raise ValidationError({api_settings.NON_FIELD_ERRORS_KEY: [ErrorDetail(message, code="invalid")]})
    if "events" not in data:
        raise ValidationError({"events": [ErrorDetail("This field is required.", code="required")]})
    events = data["events"]
    if events is None:
        raise ValidationError({"events": [ErrorDetail("This field may not be null.", code="null")]})
    if not isinstance(events, list):
        message = f'Expected a list of items but got type "{type(events).__name__}".'
        raise ValidationError({"events": [ErrorDetail(message, code="not_a_list")]})
    # Each item is any JSON value but null, checked before the length, as ListField does.
    nulls = {
        index: [ErrorDetail("This field may not be null.", code="null")]
        for index, item in enumerate(events)
        if item is None
    }
    if nulls:
        raise ValidationError({"events": nulls})
    limit = settings.ANALYTICS_INTAKE_MAX_EVENTS
    if not events:
        raise ValidationError(
            {"events": [ErrorDetail("Ensure this field has at least 1 elements.", code="min_length")]}
        )
    if len(events) > limit:
        message = f"Ensure this field has no more than {limit} elements."
        raise ValidationError({"events": [ErrorDetail(message, code="max_length")]})
    return events


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
