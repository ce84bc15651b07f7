"""schemas/ may not import the engine (tests/contract/test_import_boundaries.py), so every copy it keeps of
an engine list is checked against the engine here: record columns and their JSON types, enumerations."""

from __future__ import annotations

from marshmallow import fields

from schemas.sync import RECORD_SCHEMAS
from sync.protocol.statuses import EnrollmentStatus
from sync.protocol.tables import TABLES

JSON_TYPES = {fields.String: "string", fields.Float: "number", fields.Integer: "number", fields.Boolean: "boolean"}


def _json_type(field: fields.Field) -> str:
    return next(kind for cls, kind in JSON_TYPES.items() if isinstance(field, cls))


def test_record_schemas_match_the_engine_whitelist():
    """The documented records and the columns the engine emits are the same, column for column, typed alike."""
    for table, columns in TABLES.items():
        documented = {name: _json_type(f) for name, f in RECORD_SCHEMAS[table]().fields.items() if name != "id"}
        assert documented == {c.name: c.type for c in columns}, table


def test_visit_enums_match_the_engine():
    from schemas import visits as visit_schemas
    from sync.visits.flags import FLAGS
    from sync.visits.validation import OUTCOMES

    assert visit_schemas.FLAGS == FLAGS
    assert visit_schemas.OUTCOMES == OUTCOMES


def test_enrollment_statuses_match_the_engine():
    from schemas.dedup import ENROLLMENT_STATUSES

    assert ENROLLMENT_STATUSES == tuple(EnrollmentStatus)
