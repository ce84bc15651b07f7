"""Follow-ups for supervisors (docs/api.md): list filters, creation, reassignment and rescheduling."""

from __future__ import annotations

from marshmallow import ValidationError, fields, validate, validates_schema

from .base import BaseSchema
from .fields import ClientId, EpochMillis
from .pagination import ListArgsSchema, page_schema

KINDS = ("revisit", "payment_reminder", "document_collection")
STATUSES = ("scheduled", "done", "cancelled", "missed")


def _id(**kwargs) -> fields.String:
    return ClientId(**kwargs)


class FollowUpListArgsSchema(ListArgsSchema):
    status = fields.String(load_default=None, validate=validate.OneOf(STATUSES))
    overdue = fields.Boolean(
        load_default=None, metadata={"description": "true: scheduled or missed and due before now"}
    )
    agent_id = _id(load_default=None)
    worker_id = _id(load_default=None)


class FollowUpSchema(BaseSchema):
    id = fields.String()
    enrollment_id = fields.String(allow_none=True)
    worker_id = fields.String(allow_none=True)
    visit_id = fields.String(allow_none=True)
    kind = fields.String(allow_none=True)
    due_at = fields.Integer(allow_none=True)
    status = fields.String(allow_none=True)
    outcome_notes = fields.String(allow_none=True)
    completed_at = fields.Integer(allow_none=True)
    assigned_agent_id = fields.String(allow_none=True)
    branch_id = fields.String(allow_none=True)
    last_modified = fields.Integer()
    overdue = fields.Boolean()


FollowUpPageSchema = page_schema(FollowUpSchema, "FollowUpPage")


class FollowUpCreateSchema(BaseSchema):
    id = ClientId(load_default=None)
    assigned_agent_id = _id(required=True)
    kind = fields.String(load_default="revisit", validate=validate.OneOf(KINDS))
    due_at = EpochMillis(required=True, metadata={"description": "snapped into 08:00-17:00 local on a working day"})
    worker_id = _id(load_default=None)
    enrollment_id = _id(load_default=None)
    visit_id = _id(load_default=None)
    outcome_notes = fields.String(load_default=None, validate=validate.Length(max=2000))


class FollowUpPatchSchema(BaseSchema):
    assigned_agent_id = _id(metadata={"description": "reassign: a deletion on the old agent's phone"})
    due_at = EpochMillis(metadata={"description": "reschedule (snapped into working hours)"})
    status = fields.String(validate=validate.OneOf(STATUSES))
    outcome_notes = fields.String(allow_none=True, validate=validate.Length(max=2000))

    @validates_schema
    def _something(self, data, **kwargs):
        if not data:
            raise ValidationError("give at least one of assigned_agent_id, due_at, status, outcome_notes", "body")
