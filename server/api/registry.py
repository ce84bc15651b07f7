"""``POST /registry/import`` (admin): existing BPJS participants, to check new enrolments against."""

from __future__ import annotations

from flask_smorest import Blueprint

from schemas.dedup import RegistryImportSchema
from sync import audit
from sync.enrollments.duplicates.registry import RegistryImport

from ..auth import auth_required, current_principal
from ..extensions import db
from ..unit_of_work import writes
from ..uploads import CSV_REQUEST_BODY, run_import

blp = Blueprint("registry", __name__, url_prefix="/api/v1", description="BPJS participant registry")


@blp.route("/registry/import", methods=["POST"])
@writes
@blp.doc(requestBody=CSV_REQUEST_BODY)
@blp.response(200, RegistryImportSchema)
@auth_required("admin")
def import_participants():
    """Import ``nik,name,birth_date,membership_status``: good lines kept, bad ones reported by line number.

    The first 100 line errors are listed, ``errors_truncated`` counts the others.
    """
    report = run_import(RegistryImport)
    audit.record(
        db.session, current_principal(), audit.IMPORT_REGISTRY, table="registry",
        detail={name: report.get(name, 0) for name in ("lines", "imported", "updated", "members_found", "rejected")},
    )  # fmt: skip
    return {
        "lines": report["lines"],
        "imported": report.get("imported", 0),
        "updated": report.get("updated", 0),
        "members_found": report.get("members_found", 0),
        "rejected": report["rejected"],
        "errors": report["errors"],
        "errors_truncated": report["errors_truncated"],
    }
