"""Shared schema settings: unknown fields are refused on load, output keeps declaration order."""

from marshmallow import RAISE, Schema


class BaseSchema(Schema):
    class Meta:
        unknown = RAISE
        ordered = True
