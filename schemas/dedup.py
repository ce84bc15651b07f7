"""Duplicate review, workers, enrolment lists and the BPJS registry import (docs/api.md)."""

from __future__ import annotations

from marshmallow import ValidationError, fields, validate, validates_schema

from .base import BaseSchema
from .fields import ID_REGEX, EpochMillis
from .pagination import ListArgsSchema, page_schema

ENROLLMENT_STATUSES = ("received", "verified", "needs_correction", "duplicate", "rejected")
CANDIDATE_STATUSES = ("open", "merged", "distinct")


def IdFilter(**kwargs) -> fields.String:  # noqa: N802 - reads like a field class
    return fields.String(validate=validate.Regexp(ID_REGEX, error="must be an id ([A-Za-z0-9_-], 1 to 64)"), **kwargs)


def _s(**kw) -> fields.String:
    return fields.String(allow_none=True, **kw)


def _i(**kw) -> fields.Integer:
    return fields.Integer(allow_none=True, **kw)


class EnrollmentSummarySchema(BaseSchema):
    """An enrolment as supervisors see it: NIK and phone masked."""

    id = fields.String()
    agent_id = fields.String()
    branch_id = _s()
    nik_masked = _s()
    full_name = _s()
    birth_date = _s()
    sex = _s()
    phone_masked = _s()
    occupation = _s()
    village = _s()
    status = fields.String()
    status_reason = _s()
    worker_id = _s()
    duplicate_of = _s()
    credited_agent_id = _s()
    server_created_at = _i()
    last_modified = _i()


class WorkerSummarySchema(BaseSchema):
    id = fields.String()
    full_name = _s()
    nik_masked = _s()
    birth_date = _s()
    sex = _s()
    phone_masked = _s()
    occupation = _s()
    village = _s()
    membership_status = _s()
    enrolled_by_agent_id = _s()
    enrolled_at = _i()
    deleted_at = _i(metadata={"description": "set when merged into another person"})


class WorkerDetailSchema(WorkerSummarySchema):
    nik = _s(metadata={"description": "the full NIK, for admins only (the view is logged)"})
    enrollments = fields.List(fields.Nested(EnrollmentSummarySchema))


class CandidateSchema(BaseSchema):
    id = fields.String()
    status = fields.String(metadata={"description": "open, merged or distinct"})
    score = fields.Float(metadata={"description": "probability that both sides are one person"})
    match_weight = fields.Float(metadata={"description": "Fellegi–Sunter match weight (log2 Bayes factor)"})
    reasons = fields.List(fields.String(), metadata={"example": ["NIK differs in 1 digit", "name 0.96"]})
    created_at = fields.Integer()
    decided_at = _i()
    decided_by = _s(metadata={"description": "user id; null with status merged = linked automatically"})
    note = _s()
    enrollment = fields.Nested(EnrollmentSummarySchema, metadata={"description": "the later enrolment"})
    worker = fields.Nested(WorkerSummarySchema, allow_none=True)
    other_enrollment = fields.Nested(EnrollmentSummarySchema, allow_none=True)
    other_worker = fields.Nested(WorkerSummarySchema, allow_none=True)


CandidatePageSchema = page_schema(CandidateSchema, "DuplicatePage")
EnrollmentPageSchema = page_schema(EnrollmentSummarySchema, "EnrollmentPage")


class CandidateListArgsSchema(ListArgsSchema):
    status = fields.String(load_default="open", validate=validate.OneOf(CANDIDATE_STATUSES))


class ResolveSchema(BaseSchema):
    decision = fields.String(required=True, validate=validate.OneOf(("merge", "distinct")))
    note = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=2000))


class UnmergeSchema(BaseSchema):
    merge_id = IdFilter(load_default=None, metadata={"description": "which merge to undo; default the latest"})
    note = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=2000))


class UnmergeResultSchema(BaseSchema):
    merge_id = fields.String()
    survivor_worker_id = fields.String()
    restored_worker_ids = fields.List(fields.String())


class EnrollmentListArgsSchema(ListArgsSchema):
    status = fields.String(load_default=None, validate=validate.OneOf(ENROLLMENT_STATUSES))
    branch_id = IdFilter(load_default=None)
    agent_id = IdFilter(load_default=None)
    worker_id = IdFilter(load_default=None)
    date_from = EpochMillis(
        strict=False, data_key="from", load_default=None, metadata={"description": "server_created_at >= from (ms)"}
    )
    date_to = EpochMillis(
        strict=False, data_key="to", load_default=None, metadata={"description": "server_created_at <= to (ms)"}
    )

    @validates_schema
    def _range(self, data, **kwargs):
        if (
            data.get("date_from") is not None
            and data.get("date_to") is not None
            and data["date_from"] > data["date_to"]
        ):
            raise ValidationError("must not be before from", field_name="to")


class RegistryLineErrorSchema(BaseSchema):
    line = fields.Integer(metadata={"description": "1-based line number in the file (the header is line 1)"})
    errors = fields.Dict(keys=fields.String(), values=fields.List(fields.String()))


class RegistryImportSchema(BaseSchema):
    lines = fields.Integer()
    imported = fields.Integer()
    updated = fields.Integer()
    members_found = fields.Integer(metadata={"description": "people already enrolled who are BPJS participants"})
    rejected = fields.Integer()
    errors = fields.List(fields.Nested(RegistryLineErrorSchema), metadata={"description": "the first line errors"})
    errors_truncated = fields.Integer(metadata={"description": "line errors left out of ``errors``"})
