"""BPJS payment import (docs/api.md): a CSV in, a per-line report out."""

from __future__ import annotations

from marshmallow import fields

from .base import BaseSchema


class LineErrorSchema(BaseSchema):
    line = fields.Integer(metadata={"description": "1-based line number in the file (the header is line 1)"})
    errors = fields.Dict(keys=fields.String(), values=fields.List(fields.String()))


class PaymentImportSchema(BaseSchema):
    lines = fields.Integer(metadata={"description": "data lines read (blank lines skipped)"})
    imported = fields.Integer()
    rejected = fields.Integer()
    errors = fields.List(fields.Nested(LineErrorSchema), metadata={"description": "the first line errors"})
    errors_truncated = fields.Integer(metadata={"description": "line errors left out of ``errors``"})
    workers_reactivated = fields.Integer()
