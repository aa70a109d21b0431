"""The API's schema class (REST_FRAMEWORK's DEFAULT_SCHEMA_CLASS): drf-spectacular's, with every field
an answer always holds marked required.

drf-spectacular marks a field required in an answer only when it is read-only or required as
input. But a model serializer writes every one of its fields for an instance (a field that may be
empty is written as null or ""), and any serializer writes a field that has a default or may be
null even when its value is missing. Without this, a client generated from the schema would type a
placement's `end_date` or a bid's `status` as possibly absent. Kept apart from the schema's
post-processing hooks: DRF imports this while its own views are being imported.
"""

from drf_spectacular.openapi import AutoSchema
from rest_framework import serializers
from rest_framework.fields import empty


def always_written(serializer, field) -> bool:
    """DRF leaves a field out of an answer only when its value is missing and it is neither
    required, nor has a default, nor may be null; a model instance has every attribute."""
    return (
        isinstance(serializer, serializers.ModelSerializer)
        or field.required
        or field.default is not empty
        or field.allow_null
    )


class ApiSchema(AutoSchema):
    def _map_basic_serializer(self, serializer, direction):
        schema = super()._map_basic_serializer(serializer, direction)
        properties = schema.get("properties")
        if direction != "response" or not properties:
            return schema
        required = set(schema.get("required", []))
        for name, field in serializer.fields.items():
            if name in properties and not field.write_only and always_written(serializer, field):
                required.add(name)
        schema["required"] = [name for name in properties if name in required]
        return schema
