"""CSV exports (docs/api.md "Exports"): ``/export/visits.csv`` and ``/export/enrollments.csv``, streamed.

Each export is one unit of work that counts its rows and commits its audit entry, then the response
streams the rows in a read-only transaction of its own (``sync.exports.stream``): the entry is in the
trail before the first row leaves, and a million rows take no more memory than a thousand.
"""

from __future__ import annotations

import datetime as dt

from flask import Response, stream_with_context
from flask_smorest import Blueprint

from schemas.exports import CSV_RESPONSE, EnrollmentExportArgsSchema, VisitExportArgsSchema
from sync.enrollments.duplicates.review import EnrollmentFilters
from sync.exports import enrollments as enrollment_export
from sync.exports import stream
from sync.exports import visits as visit_export
from sync.visits.listing import VisitFilters

from ..auth import auth_required, current_principal
from ..extensions import db
from ..pii import protector
from ..unit_of_work import read_only, writes

blp = Blueprint("exports", __name__, url_prefix="/api/v1", description="CSV exports")

VISIT_FILTERS = ("branch_id", "agent_id", "date_from", "date_to", "outcome", "flag", "bbox")
ENROLLMENT_FILTERS = ("status", "branch_id", "agent_id", "worker_id", "date_from", "date_to")


def csv_response(export: stream.Export, name: str) -> Response:
    """Record the export (in the view's unit of work, committed when it returns), then stream its rows."""
    stream.record(db.session, current_principal(), export)

    def body():
        with read_only():
            yield from stream.csv_chunks(db.session, export)

    response = Response(stream_with_context(body()), mimetype="text/csv")
    day = dt.datetime.now(dt.UTC).strftime("%Y%m%d")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}-{day}.csv"'
    response.headers["Cache-Control"] = "no-store"
    return response


@blp.route("/export/visits.csv")
@writes  # the audit entry commits before the first row is streamed
@blp.arguments(VisitExportArgsSchema, location="query")
@blp.response(200)
@blp.doc(responses={"200": CSV_RESPONSE})
@auth_required()
def export_visits(args):
    """The visits ``GET /visits`` lists for the same filters (agent: own, supervisor: branch, admin: all)."""
    filters = VisitFilters(**{name: args.get(name) for name in VISIT_FILTERS})
    return csv_response(visit_export.export(current_principal(), filters), "visits")


@blp.route("/export/enrollments.csv")
@writes  # the audit entry commits before the first row is streamed
@blp.arguments(EnrollmentExportArgsSchema, location="query")
@blp.response(200)
@blp.doc(responses={"200": CSV_RESPONSE})
@auth_required()
def export_enrollments(args):
    """The enrolments ``GET /enrollments`` lists for the same filters; NIK and phone in full for admins only."""
    filters = EnrollmentFilters(**{name: args.get(name) for name in ENROLLMENT_FILTERS})
    return csv_response(enrollment_export.export(current_principal(), filters, protector()), "enrollments")
