"""Visits for supervisors and the map (docs/api.md): filters, list items, detail, GeoJSON, flag reviews."""

from __future__ import annotations

import math

from marshmallow import ValidationError, fields, validate, validates_schema

from .base import BaseSchema
from .fields import ID_REGEX
from .fields import EpochMillis as _EpochMillis
from .pagination import ListArgsSchema, page_schema

OUTCOMES = ("enrolled", "interested", "follow_up", "refused", "not_home", "already_member")
FLAGS = (
    "outside_indonesia",
    "low_accuracy",
    "mock_location",
    "impossible_travel",
    "clock_skew",
    "far_from_branch",
    "stacked_location",
)


def IdFilter(**kwargs) -> fields.String:  # noqa: N802 - reads like a field class
    """A record id given as a filter."""
    return fields.String(validate=validate.Regexp(ID_REGEX, error="must be an id ([A-Za-z0-9_-], 1 to 64)"), **kwargs)


def EpochMillis(**kwargs) -> fields.Integer:  # noqa: N802
    """Milliseconds since the Unix epoch (UTC), from query strings as well as JSON."""
    return _EpochMillis(strict=False, **kwargs)


class BBox(fields.Field):
    """``w,s,e,n`` in WGS84 degrees → a (west, south, east, north) tuple; west <= east, south <= north."""

    def _deserialize(self, value, attr, data, **kwargs):
        parts = str(value).split(",")
        try:
            numbers = [float(p) for p in parts]
        except ValueError:
            raise ValidationError("must be four numbers: west,south,east,north") from None
        if len(numbers) != 4 or not all(math.isfinite(n) for n in numbers):
            raise ValidationError("must be four numbers: west,south,east,north")
        west, south, east, north = numbers
        if not (-180 <= west <= 180 and -180 <= east <= 180 and -90 <= south <= 90 and -90 <= north <= 90):
            raise ValidationError("longitudes must be within -180..180 and latitudes within -90..90")
        if west > east:
            raise ValidationError("west must not be greater than east")
        if south > north:
            raise ValidationError("south must not be greater than north")
        return (west, south, east, north)

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else ",".join(str(v) for v in value)


class VisitFilterSchema(BaseSchema):
    branch_id = IdFilter(load_default=None)
    agent_id = IdFilter(load_default=None)
    date_from = EpochMillis(data_key="from", load_default=None, metadata={"description": "visited_at >= from (ms)"})
    date_to = EpochMillis(data_key="to", load_default=None, metadata={"description": "visited_at <= to (ms)"})
    outcome = fields.String(load_default=None, validate=validate.OneOf(OUTCOMES))
    flag = fields.String(load_default=None, validate=validate.OneOf(FLAGS))
    bbox = BBox(
        load_default=None,
        metadata={"description": "west,south,east,north in degrees", "type": "string", "example": "107,-6.5,107.6,-6"},
    )

    @validates_schema
    def _range(self, data, **kwargs):
        if data.get("date_from") is not None and data.get("date_to") is not None:
            if data["date_from"] > data["date_to"]:
                raise ValidationError("must not be after to", field_name="from")


class VisitListArgsSchema(VisitFilterSchema, ListArgsSchema):
    """Filters plus ``limit``/``cursor``."""


class GeoJsonArgsSchema(VisitFilterSchema):
    zoom = fields.Integer(
        load_default=None,
        validate=validate.Range(min=0, max=22),
        metadata={"description": "map zoom: sets the cluster cell size; below 11 visits are always clustered"},
    )


class VisitSchema(BaseSchema):
    id = fields.String()
    agent_id = fields.String()
    branch_id = fields.String(allow_none=True)
    enrollment_id = fields.String(allow_none=True)
    worker_id = fields.String(allow_none=True)
    visited_at = EpochMillis(allow_none=True)
    latitude = fields.Float(allow_none=True)
    longitude = fields.Float(allow_none=True)
    accuracy_m = fields.Float(allow_none=True)
    is_mock_location = fields.Boolean(allow_none=True)
    outcome = fields.String(allow_none=True)
    occupation = fields.String(allow_none=True)
    province_code = fields.String(allow_none=True)
    province = fields.String(allow_none=True)
    regency_code = fields.String(allow_none=True)
    regency = fields.String(allow_none=True)
    timezone = fields.String(allow_none=True)
    distance_from_branch_km = fields.Float(allow_none=True)
    flags = fields.List(fields.String())
    last_modified = EpochMillis()


VisitPageSchema = page_schema(VisitSchema, "VisitPageSchema")


class ReviewSchema(BaseSchema):
    id = fields.String()
    visit_id = fields.String()
    flag = fields.String()
    decision = fields.String(metadata={"description": "dismissed or confirmed"})
    note = fields.String(allow_none=True)
    reviewed_by = fields.String(metadata={"description": "user id"})
    reviewed_by_username = fields.String()
    reviewed_at = EpochMillis()


class FlagStateSchema(BaseSchema):
    flag = fields.String()
    reason = fields.String()
    status = fields.String(metadata={"description": "open, dismissed or confirmed"})
    review = fields.Nested(ReviewSchema, allow_none=True)


class VisitDetailSchema(VisitSchema):
    notes = fields.String(allow_none=True)
    location_match = fields.String(
        allow_none=True, metadata={"description": "inside: within the regency polygon; nearest: approximate"}
    )
    location_match_km = fields.Float(allow_none=True)
    flag_states = fields.List(fields.Nested(FlagStateSchema))
    reviews = fields.List(fields.Nested(ReviewSchema), metadata={"description": "every decision, oldest first"})


class ReviewArgsSchema(BaseSchema):
    decision = fields.String(required=True, validate=validate.OneOf(("dismiss", "confirm")))
    note = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=2000))

    @validates_schema
    def _note_for_dismissal(self, data, **kwargs):
        if data.get("decision") == "dismiss" and not (data.get("note") or "").strip():
            raise ValidationError("a note is required to dismiss a flag", field_name="note")


class FeatureCollectionSchema(BaseSchema):
    """GeoJSON (RFC 7946) with foreign members telling whether the features are clusters."""

    type = fields.String(metadata={"example": "FeatureCollection"})
    clustered = fields.Boolean()
    total = fields.Integer(metadata={"description": "visits represented (sum of cluster counts)"})
    cell_size_deg = fields.Float(allow_none=True)
    features = fields.List(
        fields.Dict(),
        metadata={
            "description": "Point features: a visit {id, outcome, flags, open_flags, visited_at, agent_id} or a "
            "grid cluster {cluster: true, count, flagged} at the cell's mean position"
        },
    )


class CoverageItemSchema(BaseSchema):
    province_code = fields.String(allow_none=True)
    province = fields.String(allow_none=True)
    regency_code = fields.String(allow_none=True)
    regency = fields.String(allow_none=True)
    visits = fields.Integer()
    flagged = fields.Integer()
    last_visited_at = EpochMillis(allow_none=True)


class CoverageSchema(BaseSchema):
    items = fields.List(fields.Nested(CoverageItemSchema))
