"""``GET /audit`` (admins; docs/api.md "Audit"): the append-only trail, newest first, over ``sync.audit``."""

from __future__ import annotations

from flask_smorest import Blueprint

from schemas.admin import AuditListArgsSchema, AuditPageSchema
from sync import audit

from ..auth import auth_required, current_principal
from ..extensions import db
from ..unit_of_work import reads

blp = Blueprint("audit", __name__, url_prefix="/api/v1", description="Audit trail")


@blp.route("/audit")
@reads
@blp.arguments(AuditListArgsSchema, location="query")
@blp.response(200, AuditPageSchema)
@auth_required("admin")
def list_audit(args):
    """Who did what, newest first: personal-data views and exports, duplicate and flag decisions,
    reassignments, device revocations, imports, logins and failed logins, user and branch changes."""
    filters = audit.AuditFilters(
        actor_id=args["actor_id"], action=args["action"], date_from=args["date_from"], date_to=args["date_to"]
    )
    page = audit.list_entries(
        db.session, principal=current_principal(), filters=filters, limit=args["limit"], cursor=args["cursor"]
    )
    return {"items": audit.entries_json(page.items), "next_cursor": page.next_cursor}
