"""Users, devices, branches and the audit trail (docs/api.md "Users, devices and branches", "Audit")."""

from __future__ import annotations

from marshmallow import ValidationError, fields, validate, validates_schema

from .auth import DeviceSchema
from .base import BaseSchema
from .fields import EpochMillis
from .pagination import ListArgsSchema, page_schema
from .visits import IdFilter

ROLES = ("agent", "supervisor", "admin")
BRANCH_KINDS = ("KCU", "KC")
# Names people read: any printable text (no control characters).
PRINTABLE = validate.Regexp(r"^[^\x00-\x1f\x7f]*$", error="must not contain control characters")


def _text(max_chars: int, **kwargs) -> fields.String:
    return fields.String(validate=[validate.Length(max=max_chars), PRINTABLE], **kwargs)


def _at_least_one(data: dict, names: tuple[str, ...]) -> None:
    if not any(name in data for name in names):
        raise ValidationError(f"send at least one of {', '.join(names)}", field_name="body")


# --- users ------------------------------------------------------------------------------------------


class AdminUserSchema(BaseSchema):
    id = fields.String()
    username = fields.String()
    full_name = fields.String(allow_none=True)
    role = fields.String()
    branch_id = fields.String(allow_none=True)
    branch_code = fields.String(allow_none=True)
    disabled = fields.Boolean()
    created_at = EpochMillis()


class UserListArgsSchema(ListArgsSchema):
    role = fields.String(load_default=None, validate=validate.OneOf(ROLES))
    branch_id = IdFilter(load_default=None)
    disabled = fields.Boolean(load_default=None)


class UserCreateSchema(BaseSchema):
    username = fields.String(
        required=True,
        validate=validate.Length(min=1, max=100),
        metadata={"description": "lowercase letters, digits, . _ - (2 to 100 characters)"},
    )
    password = fields.String(
        required=True, load_only=True, validate=validate.Length(min=1, max=500), metadata={"description": "8+ chars"}
    )
    role = fields.String(required=True, validate=validate.OneOf(ROLES))
    branch_id = IdFilter(
        load_default=None, allow_none=True, metadata={"description": "required unless admin; a supervisor's own"}
    )
    full_name = _text(200, load_default=None, allow_none=True)


USER_CHANGES = ("role", "branch_id", "full_name", "disabled", "password")


class UserPatchSchema(BaseSchema):
    role = fields.String(validate=validate.OneOf(ROLES))
    branch_id = IdFilter(allow_none=True, metadata={"description": "moving a branch revokes no token"})
    full_name = _text(200, allow_none=True)
    disabled = fields.Boolean(metadata={"description": "true: no login, every token refused"})
    password = fields.String(
        load_only=True, validate=validate.Length(min=1, max=500), metadata={"description": "a reset (8+ chars)"}
    )

    @validates_schema
    def _something(self, data, **kwargs):
        _at_least_one(data, USER_CHANGES)


UserPageSchema = page_schema(AdminUserSchema, "UserPage")


# --- devices ----------------------------------------------------------------------------------------


class DeviceListArgsSchema(ListArgsSchema):
    user_id = IdFilter(load_default=None)


DevicePageSchema = page_schema(DeviceSchema, "DevicePage")


# --- branches ---------------------------------------------------------------------------------------


class BranchSchema(BaseSchema):
    id = fields.String()
    code = fields.String()
    name = fields.String()
    kind = fields.String()
    latitude = fields.Float()
    longitude = fields.Float()
    region = fields.String(allow_none=True)


class BranchCreateSchema(BaseSchema):
    code = fields.String(
        required=True, validate=validate.Length(min=1, max=64), metadata={"description": "e.g. KCU-KARAWANG"}
    )
    name = _text(200, required=True)
    kind = fields.String(required=True, validate=validate.OneOf(BRANCH_KINDS))
    latitude = fields.Float(required=True, metadata={"description": "degrees, within Indonesia (-11..6)"})
    longitude = fields.Float(required=True, metadata={"description": "degrees, within Indonesia (95..141.1)"})
    region = _text(200, load_default=None, allow_none=True)


BRANCH_CHANGES = ("code", "name", "kind", "latitude", "longitude", "region")


class BranchPatchSchema(BaseSchema):
    code = fields.String(validate=validate.Length(min=1, max=64))
    name = _text(200)
    kind = fields.String(validate=validate.OneOf(BRANCH_KINDS))
    latitude = fields.Float()
    longitude = fields.Float()
    region = _text(200, allow_none=True)

    @validates_schema
    def _something(self, data, **kwargs):
        _at_least_one(data, BRANCH_CHANGES)


BranchPageSchema = page_schema(BranchSchema, "BranchPage")


# --- the audit trail --------------------------------------------------------------------------------


class AuditListArgsSchema(ListArgsSchema):
    actor_id = fields.String(
        load_default=None,
        validate=validate.Regexp(r"^[A-Za-z0-9_.:@-]{1,64}$", error="must be an actor id (1 to 64 characters)"),
        metadata={"description": "a user id, or e.g. anonymous (failed logins of unknown usernames)"},
    )
    action = fields.String(
        load_default=None,
        validate=validate.Regexp(r"^[a-z_.]{1,64}$", error="must be an action name such as login.failed"),
    )
    date_from = EpochMillis(strict=False, data_key="from", load_default=None, metadata={"description": "at >= from"})
    date_to = EpochMillis(strict=False, data_key="to", load_default=None, metadata={"description": "at <= to"})

    @validates_schema
    def _range(self, data, **kwargs):
        if data.get("date_from") is not None and data.get("date_to") is not None:
            if data["date_from"] > data["date_to"]:
                raise ValidationError("must not be before from", field_name="to")


class AuditEntrySchema(BaseSchema):
    id = fields.Integer()
    at = EpochMillis()
    actor_id = fields.String()
    actor_username = fields.String(allow_none=True)
    action = fields.String()
    subject_table = fields.String()
    subject_id = fields.String(allow_none=True)
    detail = fields.Dict(metadata={"description": "ids, counts and filters; never personal data"})


AuditPageSchema = page_schema(AuditEntrySchema, "AuditPage")
