"""BPJS payment files (API.md §5): ``POST /payments/import`` with the CSV as the body or a form file."""

from __future__ import annotations

from flask_smorest import Blueprint

from schemas.payments import PaymentImportSchema
from sync.payments import import_csv

from ..auth import auth_required
from ..uploads import CSV_REQUEST_BODY, run_import

blp = Blueprint("payments", __name__, url_prefix="/api/v1", description="BPJS payments")


@blp.route("/payments/import", methods=["POST"])
@blp.doc(requestBody=CSV_REQUEST_BODY)
@blp.response(200, PaymentImportSchema)
@auth_required("admin", "supervisor")
def import_payments():
    """Import BPJS's CSV (``nik,contribution_month,amount,paid_at``): good lines kept, bad ones reported."""
    report = run_import(import_csv)
    return {
        "lines": report.lines,
        "imported": report.imported,
        "rejected": len(report.errors),
        "errors": report.errors,
        "workers_reactivated": report.workers_reactivated,
    }
