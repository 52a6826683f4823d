"""The base of every request-body serializer: JSON types are strict.

DRF coerces: a CharField stores `42` as "42", an IntegerField takes "42", a BooleanField takes "yes" and 1.
The API takes one rule instead (docs/api.md): in a JSON body a string field takes a JSON string, a number
field a JSON number (never a string, never a boolean), a boolean field `true` or `false`. An integer is
also bounded to a bigint, the widest column it can reach: past it the database refused it (a 500).

Form data (multipart uploads) and query strings are text by nature and keep DRF's parsing.
"""

import copy
from collections.abc import Mapping

from django.http import QueryDict
from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail, ValidationError
from rest_framework.fields import empty

BIGINT_MIN, BIGINT_MAX = -(2**63), 2**63 - 1

_TEXT_FIELDS = (
    serializers.CharField,
    serializers.UUIDField,
    serializers.DateTimeField,
    serializers.DateField,
    serializers.TimeField,
    serializers.DurationField,
)
_NUMBER_FIELDS = (serializers.IntegerField, serializers.FloatField, serializers.DecimalField)


def _is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def json_type_error(field, value) -> ErrorDetail | dict | None:
    """What is wrong with the JSON type of `value` for `field`, or None (the field then validates it)."""
    if value is None:
        return None  # DRF's `null` / allow_null rules apply
    if isinstance(field, _TEXT_FIELDS):
        if not isinstance(value, str):
            return ErrorDetail("Expected a string.", code="invalid")
    elif isinstance(field, serializers.ChoiceField):
        if all(isinstance(choice, str) for choice in field.choices) and not isinstance(value, str):
            return ErrorDetail("Expected a string.", code="invalid")
    elif isinstance(field, serializers.BooleanField):
        if not isinstance(value, bool):
            return ErrorDetail("Expected true or false.", code="invalid")
    elif isinstance(field, _NUMBER_FIELDS):
        if not _is_number(value):
            return ErrorDetail("Expected a number.", code="invalid")
        if isinstance(field, serializers.IntegerField) and isinstance(value, int):
            if value > BIGINT_MAX:
                return ErrorDetail(f"Ensure this value is less than or equal to {BIGINT_MAX}.", code="max_value")
            if value < BIGINT_MIN:
                return ErrorDetail(f"Ensure this value is greater than or equal to {BIGINT_MIN}.", code="min_value")
    elif isinstance(field, serializers.PrimaryKeyRelatedField):
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= BIGINT_MAX:
            return ErrorDetail("Expected an id (a whole number from 1).", code="incorrect_type")
    elif isinstance(field, serializers.ListField) and isinstance(value, list):
        items = {i: [e] for i, item in enumerate(value) if (e := json_type_error(field.child, item)) is not None}
        return items or None
    return None


class StrictTypesMixin:
    """Checks each writable field's JSON type before DRF's own validation (see the module docstring)."""

    def to_internal_value(self, data):
        if isinstance(data, Mapping) and not isinstance(data, QueryDict):
            errors = {}
            for field in self._writable_fields:
                value = data.get(field.field_name, empty)
                if value is empty:
                    continue
                problem = json_type_error(field, value)
                if problem is not None:
                    errors[field.field_name] = problem if isinstance(problem, dict) else [problem]
            if errors:
                # Report the other fields' problems too, as DRF reports every field at once.
                others = {key: value for key, value in data.items() if key not in errors}
                try:
                    super().to_internal_value(others)
                except ValidationError as exc:
                    if isinstance(exc.detail, dict):
                        errors = {**exc.detail, **errors}
                raise ValidationError(errors)
        return super().to_internal_value(data)


def _flat(field) -> bool:
    """A field with no field inside it (a nested serializer, a list's child, a relation's)."""
    return not (
        isinstance(field, serializers.BaseSerializer) or hasattr(field, "child") or hasattr(field, "child_relation")
    )


class InputSerializer(StrictTypesMixin, serializers.Serializer):
    """A request body (see the module docstring)."""

    # (Not in the docstring: that is the schema's description of every request body.) Its fields are
    # copied from a set made once per class: DRF deep-copies the declared fields for every instance, which
    # builds each field anew (its validators, their messages): a tenth of a progress write's CPU. A flat
    # field's copy is shallow (the copy is then bound to this serializer; its validators, made once, are
    # read-only); a field with fields inside is deep-copied as DRF does.
    def get_fields(self):
        cls = type(self)
        made = cls.__dict__.get("_csn_fields")
        if made is None:
            made = copy.deepcopy(self._declared_fields)
            for field in made.values():
                if _flat(field):
                    field.validators  # noqa: B018 - made once here, not on each copy
            cls._csn_fields = made
        return {name: copy.copy(field) if _flat(field) else copy.deepcopy(field) for name, field in made.items()}
