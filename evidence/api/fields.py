"""Input fields that take only the JSON type the schema promises.

DRF's own fields are lenient: a CharField turns 12 into "12", an IntegerField takes "12" and 12.0, a
BooleanField takes "yes", "on" and 1, a primary key may come as a string. The schema says string, integer,
boolean: a client sending anything else has a bug, and is told so with a 400 on the field instead of having
a guess stored (schemathesis, tests/test_api_schema.py, checks exactly this).
"""

from __future__ import annotations

import re
from typing import Any

from django import forms
from rest_framework import serializers


class StrictCharField(serializers.CharField):
    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictURLField(serializers.URLField):
    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictIntegerField(serializers.IntegerField):
    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid")
        return data


class StrictPrimaryKeyRelatedField(serializers.PrimaryKeyRelatedField):
    def to_internal_value(self, data: Any):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("incorrect_type", data_type=type(data).__name__)
        return super().to_internal_value(data)


_STRICT: dict[type, type] = {
    serializers.CharField: StrictCharField,
    serializers.URLField: StrictURLField,
    serializers.IntegerField: StrictIntegerField,
    serializers.BooleanField: StrictBooleanField,
}


class StrictModelSerializer(serializers.ModelSerializer):
    """A ModelSerializer whose generated fields are the strict ones above."""

    serializer_field_mapping = {
        model_field: _STRICT.get(field, field)
        for model_field, field in serializers.ModelSerializer.serializer_field_mapping.items()
    }
    serializer_related_field = StrictPrimaryKeyRelatedField


class StrictIntegerFormField(forms.IntegerField):
    """For filters: digits only ("0.0" and "1e3" are refused, where Django's IntegerField takes "1.0")."""

    def to_python(self, value: Any) -> int | None:
        if isinstance(value, str) and value.strip() and not re.fullmatch(r"[+-]?\d+", value.strip()):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return super().to_python(value)
