"""BPJS payment files (API.md §5): ``POST /payments/import`` with the CSV as the body or a form file."""

from __future__ import annotations

from flask_smorest import Blueprint

from schemas.payments import PaymentImportSchema
from sync.clock import now_ms
from sync.payments import import_csv

from ..auth import auth_required, current_principal
from ..extensions import db
from ..pii import protector
from ..uploads import CSV_REQUEST_BODY, csv_text

blp = Blueprint("payments", __name__, url_prefix="/api/v1", description="BPJS payments")


@blp.route("/payments/import", methods=["POST"])
@blp.doc(requestBody=CSV_REQUEST_BODY)
@blp.response(200, PaymentImportSchema)
@auth_required("admin", "supervisor")
def import_payments():
    """Import BPJS's CSV (``nik,contribution_month,amount,paid_at``): good lines kept, bad ones reported."""
    try:
        user_id = current_principal().user_id
        report = import_csv(db.session, text=csv_text(), pii=protector(), now=now_ms(), imported_by=user_id)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return {
        "lines": report.lines,
        "imported": report.imported,
        "rejected": len(report.errors),
        "errors": report.errors,
        "workers_reactivated": report.workers_reactivated,
    }
