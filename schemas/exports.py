"""CSV exports (docs/api.md "Exports"): the filters of the lists they export, without paging."""

from __future__ import annotations

from .dedup import EnrollmentListArgsSchema
from .visits import VisitFilterSchema

CSV_RESPONSE = {
    "description": "CSV (UTF-8 with BOM, a header row), streamed; NIK and phone masked except for admins",
    "content": {"text/csv": {"schema": {"type": "string"}}},
}


class VisitExportArgsSchema(VisitFilterSchema):
    """The filters of ``GET /visits``."""


class EnrollmentExportArgsSchema(EnrollmentListArgsSchema):
    """The filters of ``GET /enrollments`` (no ``limit`` or ``cursor``: an export is every row)."""

    class Meta(EnrollmentListArgsSchema.Meta):
        exclude = ("limit", "cursor")
