"""``POST /registry/import`` (admin): existing BPJS participants, to check new enrolments against."""

from __future__ import annotations

from flask_smorest import Blueprint

from schemas.dedup import RegistryImportSchema
from sync.clock import now_ms
from sync.dedup.registry import import_registry

from ..auth import auth_required, current_principal
from ..extensions import db
from ..pii import protector
from ..uploads import CSV_REQUEST_BODY, csv_text

blp = Blueprint("registry", __name__, url_prefix="/api/v1", description="BPJS participant registry")


@blp.route("/registry/import", methods=["POST"])
@blp.doc(requestBody=CSV_REQUEST_BODY)
@blp.response(200, RegistryImportSchema)
@auth_required("admin")
def import_participants():
    """Import ``nik,name,birth_date,membership_status``: good lines kept, bad ones reported by line number."""
    try:
        report = import_registry(
            db.session, text=csv_text(), pii=protector(), now=now_ms(), imported_by=current_principal().user_id
        )
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return {
        "lines": report.lines,
        "imported": report.imported,
        "updated": report.updated,
        "members_found": report.members_found,
        "rejected": len(report.errors),
        "errors": report.errors,
    }
