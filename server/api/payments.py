"""BPJS payment files (docs/api.md): ``POST /payments/import`` with the CSV as the body or a form file."""

from __future__ import annotations

from flask_smorest import Blueprint

from schemas.payments import PaymentImportSchema
from sync import audit
from sync.payments.imports import PaymentImport

from ..auth import auth_required, current_principal
from ..extensions import db
from ..unit_of_work import writes
from ..uploads import CSV_REQUEST_BODY, run_import

blp = Blueprint("payments", __name__, url_prefix="/api/v1", description="BPJS payments")


@blp.route("/payments/import", methods=["POST"])
@writes
@blp.doc(requestBody=CSV_REQUEST_BODY)
@blp.response(200, PaymentImportSchema)
@auth_required("admin", "supervisor")
def import_payments():
    """Import BPJS's CSV (``nik,contribution_month,amount,paid_at``): good lines kept, bad ones reported.

    A supervisor imports for the people enrolled in their own branch; a line naming anyone else is reported
    like an unknown NIK. The first 100 line errors are listed, ``errors_truncated`` counts the others.
    """
    report = run_import(PaymentImport)
    audit.record(
        db.session, current_principal(), audit.IMPORT_PAYMENTS, table="payments",
        detail={name: report.get(name, 0) for name in ("lines", "imported", "rejected")},
    )  # fmt: skip
    return {
        "lines": report["lines"],
        "imported": report.get("imported", 0),
        "rejected": report["rejected"],
        "errors": report["errors"],
        "errors_truncated": report["errors_truncated"],
        "workers_reactivated": report.get("workers_reactivated", 0),
    }
