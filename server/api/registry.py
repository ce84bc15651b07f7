"""``POST /registry/import`` (admin): existing BPJS participants, to check new enrolments against."""

from __future__ import annotations

from flask import request
from flask_smorest import Blueprint

from schemas.dedup import RegistryImportSchema
from sync.clock import now_ms
from sync.dedup.registry import import_registry
from sync.errors import InvalidRequest

from ..auth import auth_required, current_principal
from ..extensions import db
from ..pii import protector

BINARY = {"type": "string", "format": "binary"}
blp = Blueprint("registry", __name__, url_prefix="/api/v1", description="BPJS participant registry")


def _csv_text() -> str:
    upload = request.files.get("file") if request.mimetype == "multipart/form-data" else None
    raw = upload.read() if upload is not None else request.get_data(cache=True)
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidRequest("the file is not UTF-8 text", errors={"file": ["must be UTF-8 CSV"]}) from None


@blp.route("/registry/import", methods=["POST"])
@blp.doc(
    requestBody={
        "required": True,
        "content": {
            "text/csv": {"schema": {"type": "string"}},
            "multipart/form-data": {"schema": {"type": "object", "properties": {"file": BINARY}}},
        },
    }
)
@blp.response(200, RegistryImportSchema)
@auth_required("admin")
def import_participants():
    """Import ``nik,name,birth_date,membership_status``: good lines kept, bad ones reported by line number."""
    try:
        report = import_registry(
            db.session, text=_csv_text(), pii=protector(), now=now_ms(), imported_by=current_principal().user_id
        )
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return {
        "lines": report.lines,
        "imported": report.imported,
        "updated": report.updated,
        "rejected": len(report.errors),
        "errors": report.errors,
    }
