"""Enrolment lists for agents, supervisors and admins (docs/api.md), scoped in the query."""

from __future__ import annotations

from flask_smorest import Blueprint

from schemas.dedup import EnrollmentListArgsSchema, EnrollmentPageSchema
from sync.enrollments.duplicates import review

from ..auth import auth_required, current_principal
from ..extensions import db
from ..unit_of_work import reads

blp = Blueprint("enrollments", __name__, url_prefix="/api/v1", description="Enrolments")
FILTERS = ("status", "branch_id", "agent_id", "worker_id", "date_from", "date_to")


@blp.route("/enrollments")
@reads
@blp.arguments(EnrollmentListArgsSchema, location="query")
@blp.response(200, EnrollmentPageSchema)
@auth_required()
def list_enrollments(args):
    """Enrolments in scope (agent: own, supervisor: branch, admin: all), newest first, NIK and phone masked."""
    filters = review.EnrollmentFilters(**{name: args.get(name) for name in FILTERS})
    principal = current_principal()
    page = review.list_enrollments(
        db.session, principal=principal, filters=filters, limit=args["limit"], cursor=args["cursor"]
    )
    return {"items": review.enrollments_json(db.session, principal, page.items), "next_cursor": page.next_cursor}
