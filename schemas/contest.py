"""The branch contest (docs/api.md "Contest"): periods with targets, the leaderboard and its agent ranking."""

from __future__ import annotations

from marshmallow import ValidationError, fields, validate, validates_schema

from .base import BaseSchema
from .fields import ID_ERROR, ID_REGEX, ClientId, EpochMillis
from .pagination import page_schema

ZONES = ("Asia/Jakarta", "Asia/Pontianak", "Asia/Makassar", "Asia/Jayapura")
MAX_TARGET = 1_000_000_000


def _branch_key() -> fields.String:
    return fields.String(validate=validate.Regexp(ID_REGEX, error=ID_ERROR))


def _target(**kwargs) -> fields.Integer:
    return fields.Integer(strict=True, validate=validate.Range(min=1, max=MAX_TARGET), **kwargs)


def _name(**kwargs) -> fields.String:
    return fields.String(validate=validate.Length(min=1, max=200), **kwargs)


class PeriodSchema(BaseSchema):
    id = fields.String()
    name = fields.String()
    starts_on = fields.String(metadata={"description": "first day (YYYY-MM-DD) in the period's time zone"})
    ends_on = fields.String(metadata={"description": "last day, inclusive"})
    timezone = fields.String()
    targets = fields.Dict(
        keys=fields.String(), values=fields.Integer(), metadata={"description": "branch id → target enrolments"}
    )
    starts_at = fields.Integer(metadata={"description": "starts_on 00:00 in the zone (ms)"})
    ends_at = fields.Integer(metadata={"description": "the day after ends_on, 00:00 in the zone (ms, exclusive)"})


PeriodPageSchema = page_schema(PeriodSchema, "ContestPeriodPage")


class PeriodCreateSchema(BaseSchema):
    name = _name(required=True)
    starts_on = fields.Date(required=True, metadata={"description": "YYYY-MM-DD"})
    ends_on = fields.Date(required=True, metadata={"description": "YYYY-MM-DD, inclusive"})
    timezone = fields.String(load_default="Asia/Jakarta", validate=validate.OneOf(ZONES))
    targets = fields.Dict(keys=_branch_key(), values=_target(), load_default=dict)


class PeriodPatchSchema(BaseSchema):
    name = _name()
    starts_on = fields.Date()
    ends_on = fields.Date()
    timezone = fields.String(validate=validate.OneOf(ZONES))
    targets = fields.Dict(
        keys=_branch_key(),
        values=_target(allow_none=True),
        metadata={"description": "merged into the period's targets: a number sets one, null removes it"},
    )

    @validates_schema
    def _something(self, data, **kwargs):
        if not data:
            raise ValidationError("give at least one of name, starts_on, ends_on, timezone, targets", "body")


class LeaderboardArgsSchema(BaseSchema):
    period_id = ClientId(load_default=None, metadata={"description": "default: the period running at as_of"})
    as_of = EpochMillis(strict=False, load_default=None, metadata={"description": "ms; default now"})


class AgentLeaderboardArgsSchema(LeaderboardArgsSchema):
    branch_id = ClientId(load_default=None, metadata={"description": "required for admins; a supervisor's own"})


class _StandingFields(BaseSchema):
    rank = fields.Integer()
    enrollments = fields.Integer()
    previous_enrollments = fields.Integer(allow_none=True)
    growth_pct = fields.Float(allow_none=True)
    previous_to_date = fields.Integer(allow_none=True)
    growth_to_date_pct = fields.Float(allow_none=True)


class BranchStandingSchema(_StandingFields):
    branch_id = fields.String()
    branch_code = fields.String()
    branch_name = fields.String()
    kind = fields.String()
    region = fields.String(allow_none=True)
    target = fields.Integer(allow_none=True)
    target_pct = fields.Float(allow_none=True)
    active_agents = fields.Integer()


class AgentStandingSchema(_StandingFields):
    agent_id = fields.String()
    username = fields.String()
    full_name = fields.String(allow_none=True)
    active = fields.Boolean(metadata={"description": "a visit in the period before as_of"})
    in_branch = fields.Boolean(metadata={"description": "belongs to the branch at as_of"})


class _BoardFields(BaseSchema):
    period = fields.Nested(PeriodSchema)
    previous_period = fields.Nested(PeriodSchema, allow_none=True)
    as_of = fields.Integer()
    elapsed_days = fields.Integer()
    period_days = fields.Integer()


class LeaderboardSchema(_BoardFields):
    items = fields.List(fields.Nested(BranchStandingSchema))


class BranchRefSchema(BaseSchema):
    id = fields.String()
    code = fields.String()
    name = fields.String()


class AgentLeaderboardSchema(_BoardFields):
    branch = fields.Nested(BranchRefSchema)
    items = fields.List(fields.Nested(AgentStandingSchema))
