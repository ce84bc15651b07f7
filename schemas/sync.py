"""The sync protocol on the wire (docs/sync.md): pull arguments, change sets, push results.

Records are written out column by column, as the phone's WatermelonDB schema declares them.
``tests/schemas/test_sync_schemas.py`` checks they match the engine's column whitelist.
"""

from marshmallow import EXCLUDE, Schema, fields, validate

from .fields import ID_REGEX, EpochMillis


class _Lenient(Schema):
    class Meta:
        unknown = EXCLUDE
        ordered = True


class PullArgsSchema(_Lenient):
    last_pulled_at = fields.String(
        load_default=None,
        metadata={"description": "ms of the previous pull; `null`, empty, absent or 0 mean a first sync"},
    )
    schema_version = fields.String(load_default=None, metadata={"description": "the phone's schema version"})
    migration = fields.String(load_default=None, metadata={"description": "URL-encoded JSON or `null` (§3.6)"})


class PushArgsSchema(_Lenient):
    last_pulled_at = fields.String(load_default=None, metadata={"description": "timestamp of this sync's pull"})


def _record(name: str, columns: dict[str, fields.Field]) -> type:
    return type(name, (_Lenient,), {"id": fields.String(required=True, validate=validate.Regexp(ID_REGEX))} | columns)


def _s(**kw):
    return fields.String(allow_none=True, **kw)


def _n(**kw):
    return fields.Float(allow_none=True, **kw)


EnrollmentRecordSchema = _record(
    "EnrollmentRecord",
    {
        "nik": _s(),
        "full_name": _s(),
        "birth_date": _s(),
        "sex": _s(),
        "phone": _s(),
        "occupation": _s(),
        "address": _s(),
        "village": _s(),
        "programs": _s(),
        "monthly_income": _n(),
        "visit_id": _s(),
        "captured_at": _n(),
        "status": _s(dump_only=True),
        "status_reason": _s(dump_only=True),
        "validation_errors": _s(dump_only=True),
        "worker_id": _s(dump_only=True),
        "duplicate_of": _s(dump_only=True),
        "credited_agent_id": _s(dump_only=True),
        "updated_at": _n(dump_only=True),
    },
)

VisitRecordSchema = _record(
    "VisitRecord",
    {
        "enrollment_id": _s(),
        "worker_id": _s(),
        "visited_at": _n(),
        "latitude": _n(),
        "longitude": _n(),
        "accuracy_m": _n(),
        "is_mock_location": fields.Boolean(allow_none=True),
        "outcome": _s(),
        "occupation": _s(),
        "notes": _s(),
        "province_code": _s(dump_only=True),
        "regency_code": _s(dump_only=True),
        "province": _s(dump_only=True),
        "regency": _s(dump_only=True),
        "timezone": _s(dump_only=True),
        "distance_from_branch_km": _n(dump_only=True),
        "flags": _s(dump_only=True),
    },
)

FollowUpRecordSchema = _record(
    "FollowUpRecord",
    {
        "enrollment_id": _s(),
        "worker_id": _s(),
        "visit_id": _s(),
        "kind": _s(),
        "due_at": _n(),
        "status": _s(),
        "outcome_notes": _s(),
        "completed_at": _n(),
        "assigned_agent_id": _s(dump_only=True),
    },
)

WorkerRecordSchema = _record(
    "WorkerRecord",
    {
        name: _s(dump_only=True)
        for name in (
            "full_name",
            "nik_masked",
            "birth_date",
            "sex",
            "phone_masked",
            "occupation",
            "village",
            "membership_status",
            "enrolled_by_agent_id",
        )
    }
    | {"enrolled_at": _n(dump_only=True)},
)

RECORD_SCHEMAS = {
    "enrollments": EnrollmentRecordSchema,
    "visits": VisitRecordSchema,
    "follow_ups": FollowUpRecordSchema,
    "workers": WorkerRecordSchema,
}


def _table_changes(name: str, record: type) -> type:
    return type(
        name,
        (_Lenient,),
        {
            "created": fields.List(fields.Nested(record), required=True),
            "updated": fields.List(fields.Nested(record), required=True),
            "deleted": fields.List(fields.String(), required=True),
        },
    )


class ChangesSchema(_Lenient):
    enrollments = fields.Nested(_table_changes("EnrollmentChanges", EnrollmentRecordSchema))
    visits = fields.Nested(_table_changes("VisitChanges", VisitRecordSchema))
    follow_ups = fields.Nested(_table_changes("FollowUpChanges", FollowUpRecordSchema))
    workers = fields.Nested(_table_changes("WorkerChanges", WorkerRecordSchema))


class PullResponseSchema(_Lenient):
    changes = fields.Nested(ChangesSchema, required=True)
    timestamp = EpochMillis(required=True)


class PushBodySchema(_Lenient):
    changes = fields.Nested(ChangesSchema, required=True)


class RecordResultSchema(_Lenient):
    status = fields.String(
        metadata={"description": "verified, needs_correction, duplicate, accepted, deleted, rejected"}
    )
    errors = fields.Dict(keys=fields.String(), values=fields.List(fields.String()))
    warnings = fields.Dict(keys=fields.String(), values=fields.List(fields.String()))
    worker_id = fields.String()
    duplicate_of = fields.String()
    flags = fields.String()


class PushResponseSchema(_Lenient):
    timestamp = EpochMillis(required=True)
    results = fields.Dict(
        keys=fields.String(), values=fields.Dict(keys=fields.String(), values=fields.Nested(RecordResultSchema))
    )
    experimentalRejectedIds = fields.Dict(keys=fields.String(), values=fields.List(fields.String()))  # noqa: N815
