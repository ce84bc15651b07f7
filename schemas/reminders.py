"""Reminders (docs/api.md, §6): a supervisor's message, the outbox list, retry and opt-out."""

from __future__ import annotations

from marshmallow import fields, validate

from .base import BaseSchema
from .fields import ClientId, EpochMillis
from .pagination import ListArgsSchema, page_schema

STATUSES = ("pending", "sent", "failed", "dead", "cancelled")


def _id(**kwargs) -> fields.String:
    return ClientId(**kwargs)


class ReminderListArgsSchema(ListArgsSchema):
    status = fields.String(load_default=None, validate=validate.OneOf(STATUSES))


class ReminderCreateSchema(BaseSchema):
    agent_id = _id(load_default=None)
    worker_id = _id(load_default=None)
    text = fields.String(required=True, validate=validate.Length(min=1, max=1000))
    due_at = EpochMillis(load_default=None, metadata={"description": "default now; quiet hours still apply"})
    channel = fields.String(load_default="sms", validate=validate.OneOf(("sms", "whatsapp")))


class ReminderSchema(BaseSchema):
    id = fields.String()
    kind = fields.String()
    recipient_type = fields.String()
    recipient_id = fields.String()
    worker_id = fields.String(allow_none=True)
    branch_id = fields.String(allow_none=True)
    channel = fields.String()
    text = fields.String()
    timezone = fields.String()
    subject_month = fields.String(allow_none=True)
    due_at = fields.Integer()
    send_after = fields.Integer()
    status = fields.String()
    attempts = fields.Integer()
    last_error = fields.String(allow_none=True)
    sent_at = fields.Integer(allow_none=True)
    created_by = fields.String(allow_none=True)
    created_at = fields.Integer()
    updated_at = fields.Integer()


ReminderPageSchema = page_schema(ReminderSchema, "ReminderPage")


class OptOutSchema(BaseSchema):
    phone = fields.String(required=True, validate=validate.Length(min=1, max=40))


class OptOutResultSchema(BaseSchema):
    opted_out = fields.Boolean()
    phone_masked = fields.String()
