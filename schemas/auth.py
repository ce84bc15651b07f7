"""Login, the current user, and devices (docs/api.md)."""

from marshmallow import fields, validate

from .base import BaseSchema
from .fields import EpochMillis


class LoginSchema(BaseSchema):
    username = fields.String(required=True, validate=validate.Length(min=1, max=100))
    password = fields.String(required=True, load_only=True, validate=validate.Length(min=1, max=500))
    device_id = fields.String(load_default=None, validate=validate.Length(min=1, max=128))
    device_name = fields.String(load_default=None, validate=validate.Length(max=200))


class UserSchema(BaseSchema):
    id = fields.String()
    username = fields.String()
    role = fields.String()
    branch_id = fields.String(allow_none=True)
    full_name = fields.String(allow_none=True)


class TokenSchema(BaseSchema):
    token = fields.String()
    token_type = fields.String()
    expires_at = EpochMillis()
    user = fields.Nested(UserSchema)


class DeviceSchema(BaseSchema):
    id = fields.String()
    user_id = fields.String()
    client_device_id = fields.String()
    name = fields.String(allow_none=True)
    created_at = EpochMillis()
    last_seen_at = EpochMillis(allow_none=True)
    revoked_at = EpochMillis(allow_none=True)
