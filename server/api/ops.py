"""Operations: liveness, readiness (database reachable, migrations current), Prometheus metrics."""

from __future__ import annotations

from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Response, current_app
from flask_smorest import Blueprint
from sqlalchemy import func, select, text

from schemas.ops import HealthSchema
from sync.models import Enrollment, PushArchive, Visit, Worker

from ..extensions import db
from ..unit_of_work import reads

blp = Blueprint("ops", __name__, description="Operations")


@blp.route("/healthz")
@blp.response(200, HealthSchema)
def healthz():
    """The process is up (no dependencies checked)."""
    return {"status": "ok"}


def _migration_state() -> tuple[str | None, str | None]:
    script = ScriptDirectory.from_config(current_app.extensions["migrate"].migrate.get_config())
    with db.engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_revision()
    return current, script.get_current_head()


@blp.route("/readyz")
@reads
@blp.response(200, HealthSchema)
@blp.alt_response(503, schema=HealthSchema, description="Database unreachable or migrations pending")
def readyz():
    """Ready to serve: the database answers and its schema is at the latest migration."""
    try:
        db.session.execute(text("SELECT 1"))
        current, head = _migration_state()
    except Exception as exc:  # any failure to reach the database means not ready
        return {"status": "unavailable", "database": type(exc).__name__, "migration": None}, 503
    if current != head:
        return {"status": "migrations pending", "database": "ok", "migration": current}, 503
    return {"status": "ok", "database": "ok", "migration": current}


@blp.route("/metrics")
@reads
@blp.doc(responses={"200": {"description": "Prometheus text format", "content": {"text/plain": {}}}})
def metrics():
    """Record counts for dashboards (Prometheus text exposition)."""
    lines = []
    for name, model in (
        ("enrollments", Enrollment),
        ("visits", Visit),
        ("workers", Worker),
        ("push_archive", PushArchive),
    ):
        count = db.session.execute(select(func.count()).select_from(model)).scalar_one()
        lines.append(f'jangkau_records_total{{table="{name}"}} {count}')
    return Response("# TYPE jangkau_records_total gauge\n" + "\n".join(lines) + "\n", mimetype="text/plain")
