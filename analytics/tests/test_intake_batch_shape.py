"""`batch_events` refuses a malformed body exactly as the DRF serializer it replaces did."""

import pytest
from django.conf import settings
from rest_framework import serializers
from rest_framework.exceptions import ValidationError

from analytics.api.serializers import batch_events
from csn.api.errors import _flatten

PAUSE = {"name": "video_pause", "properties": {"video_id": 7, "position_seconds": 12.5}}


class ReferenceBatchSerializer(serializers.Serializer):
    """What the intake used before: DRF's own checks of the batch's shape."""

    events = serializers.ListField(
        child=serializers.JSONField(), min_length=1, max_length=settings.ANALYTICS_INTAKE_MAX_EVENTS
    )


def _as_codes(detail) -> dict:
    """{"events.2": [(message, code)]}: what the error shape shows of a ValidationError."""
    return {path: [(item["message"], item["code"]) for item in items] for path, items in _flatten(detail).items()}


BODIES = [
    None,
    [PAUSE],
    "events",
    5,
    {},
    {"other": []},
    {"events": None},
    {"events": "video_pause"},
    {"events": {"0": PAUSE}},
    {"events": 5},
    {"events": True},
    {"events": []},
    {"events": [PAUSE] * (settings.ANALYTICS_INTAKE_MAX_EVENTS + 1)},
    {"events": [PAUSE, None, PAUSE, None]},
    {"events": [None] * (settings.ANALYTICS_INTAKE_MAX_EVENTS + 1)},
]


@pytest.mark.parametrize("body", BODIES)
def test_malformed_bodies_get_drf_s_codes_messages_and_fields(body):
    reference = ReferenceBatchSerializer(data=body)
    assert not reference.is_valid()

    with pytest.raises(ValidationError) as refused:
        batch_events(body)

    assert _as_codes(refused.value.detail) == _as_codes(reference.errors)


@pytest.mark.parametrize(
    "events", [[PAUSE], [PAUSE] * settings.ANALYTICS_INTAKE_MAX_EVENTS, ["not an object", 5, [], PAUSE]]
)
def test_well_shaped_batches_pass_through_unchanged(events):
    reference = ReferenceBatchSerializer(data={"events": events})
    assert reference.is_valid()
    assert batch_events({"events": events}) == reference.validated_data["events"] == events


@pytest.mark.django_db
def test_a_malformed_body_is_a_400_in_the_error_shape(auth_client):
    response = auth_client.post("/api/v1/analytics/events/", {"events": []}, format="json")
    assert response.status_code == 400
    assert response.json()["error"] == {
        "code": "invalid",
        "message": "Some fields are invalid.",
        "fields": {"events": [{"code": "min_length", "message": "Ensure this field has at least 1 elements."}]},
    }
