"""Operational endpoints' bodies."""

from marshmallow import Schema, fields


class HealthSchema(Schema):
    status = fields.String()
    database = fields.String()
    migration = fields.String(allow_none=True)
