"""CSV uploads (payments, registry): the file as the raw body or a multipart ``file`` field."""

from __future__ import annotations

from collections.abc import Callable

from flask import request

from sync.clock import now_ms
from sync.errors import InvalidRequest

from .auth import current_principal
from .extensions import db
from .pii import protector

BINARY = {"type": "string", "format": "binary"}
CSV_REQUEST_BODY = {
    "required": True,
    "content": {
        "text/csv": {"schema": {"type": "string"}},
        "multipart/form-data": {"schema": {"type": "object", "properties": {"file": BINARY}}},
    },
}


def csv_text() -> str:
    """The uploaded CSV as text (UTF-8, a BOM tolerated), or a 422 naming ``file``."""
    upload = request.files.get("file") if request.mimetype == "multipart/form-data" else None
    raw = upload.read() if upload is not None else request.get_data(cache=True)
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidRequest("the file is not UTF-8 text", errors={"file": ["must be UTF-8 CSV"]}) from None


def run_import(importer: Callable):
    """Run an engine CSV importer on the upload as the caller, in one transaction; returns its report."""
    try:
        report = importer(
            db.session, text=csv_text(), pii=protector(), now=now_ms(), imported_by=current_principal().user_id
        )
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return report
