"""csn.api.serializers.InputSerializer copies its fields from a set made once per class: each instance
still has fields of its own, bound to it, validating as DRF's deep copies do."""

import copy
from datetime import UTC, datetime

from rest_framework import serializers

from csn.api.serializers import InputSerializer


class Reading(InputSerializer):
    position = serializers.FloatField(min_value=0)
    count = serializers.IntegerField(min_value=1, max_value=50, required=False)
    at = serializers.DateTimeField()
    tags = serializers.ListField(child=serializers.CharField(max_length=3), required=False)


class DeepReading(Reading):
    def get_fields(self):  # DRF's own way: a deep copy of the declared fields per instance
        return copy.deepcopy(self._declared_fields)


PAYLOADS = [
    {"position": 1.5, "count": 3, "at": "2026-12-03T12:00:00Z", "tags": ["a", "bb"]},
    {"position": -1, "count": 0, "at": "yesterday", "tags": ["long one"]},
    {"position": "1", "count": 51, "at": 5},
    {"count": 2},
    {},
]


def test_each_instance_has_fields_of_its_own_bound_to_it():
    first, second = Reading(data={}), Reading(data={})
    for name in ("position", "count", "at", "tags"):
        assert first.fields[name] is not second.fields[name]
        assert first.fields[name].parent is first and second.fields[name].parent is second
        assert first.fields[name].field_name == name
    assert first.fields["tags"].child is not second.fields["tags"].child  # a nested field: deep-copied
    assert first.fields["tags"].child.parent is first.fields["tags"]


def test_validation_and_errors_are_drfs():
    for payload in PAYLOADS:
        ours, drfs = Reading(data=payload), DeepReading(data=payload)
        assert ours.is_valid() == drfs.is_valid(), payload
        assert ours.errors == drfs.errors, payload
        if drfs.is_valid():
            assert ours.validated_data == drfs.validated_data
    valid = Reading(data=PAYLOADS[0])
    assert valid.is_valid() and valid.validated_data["at"] == datetime(2026, 12, 3, 12, tzinfo=UTC)


def test_a_subclass_has_its_own_fields():
    class Longer(Reading):
        extra = serializers.CharField()

    Reading(data={}).fields
    assert set(Longer(data={}).fields) == {"position", "count", "at", "tags", "extra"}
    assert set(Reading(data={}).fields) == {"position", "count", "at", "tags"}
