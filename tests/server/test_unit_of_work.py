"""One unit of work per request (``server.unit_of_work``): writes commit or leave nothing, reads always end
their transaction, and the two side transactions (rate-limit counters, push archive) are kept on their own."""

from __future__ import annotations

import pytest
from flask import Blueprint, request
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.api import sync as sync_api
from server.extensions import db
from server.unit_of_work import (
    SIDE_TRANSACTIONS,
    NestedUnit,
    ReadOnlyCommit,
    read_only,
    reads,
    side_transaction,
    unit_of_work,
    writes,
)
from sync.errors import InvalidRequest
from sync.models import Branch, PushArchive, RateLimitWindow, Visit
from tests.factories import ApiHelper, changes, enrollment, new_id, visit

# Views that run their units inside the body (``with ...``) or never touch the database.
EXPLICIT = {
    "sync.push_changes": "the push's unit, then the push archive as a side transaction",
    "duplicates.resolve_duplicate": "the decision's unit, then a read of the result as committed",
    "web.login_submit": "the login's unit, a refused role discarding its token",
    "ops.healthz": "no database",
    "web.vendor": "no database",
}


def count(engine, model) -> int:
    with Session(engine) as session:
        return session.execute(select(func.count()).select_from(model)).scalar_one()


def branch_named(engine, code: str) -> list[str]:
    with Session(engine) as session:
        return session.execute(select(Branch.code).where(Branch.code == code)).scalars().all()


def _add_branch(code: str) -> None:
    db.session.add(Branch(id=new_id(), code=code, name=code, kind="KCU", latitude=0.0, longitude=0.0))
    db.session.flush()  # the row is in the database (in this transaction) before the failure


@pytest.fixture
def probe_app(make_app):
    """A fresh app with a test-only blueprint of routes that write, then fail, and an after_request hook
    recording, for every request, whether a transaction or a pooled connection was still held."""
    app = make_app()
    probe = Blueprint("probe", __name__)

    @probe.post("/probe/write/<code>")
    @writes
    def write_ok(code):
        _add_branch(code)
        return {"ok": True}

    @probe.post("/probe/write-then-refuse/<code>")
    @writes
    def write_then_refuse(code):
        _add_branch(code)
        raise InvalidRequest("refused after writing", errors={"code": ["refused late"]})

    @probe.post("/probe/write-then-crash/<code>")
    @writes
    def write_then_crash(code):
        _add_branch(code)
        raise RuntimeError("a server fault after writing")

    @probe.get("/probe/read-that-commits/<code>")
    @reads
    def read_that_commits(code):
        _add_branch(code)
        db.session.commit()
        return {"ok": True}

    @probe.get("/probe/nested/<code>")
    @writes
    def nested(code):
        _add_branch(code)
        with unit_of_work():
            pass
        return {"ok": True}

    app.register_blueprint(probe)
    app.config["held"] = held = []

    @app.after_request
    def _record(response):
        pool = db.engine.pool
        checked_out = pool.checkedout() if hasattr(pool, "checkedout") else 0
        held.append((request.endpoint, db.session().in_transaction(), checked_out))
        return response

    return app


def test_a_write_that_fails_after_writing_leaves_nothing(probe_app, engine):
    client = probe_app.test_client()
    refused = client.post("/probe/write-then-refuse/LATE-422")
    assert refused.status_code == 422
    assert refused.headers["Content-Type"].startswith("application/problem+json")
    assert refused.json["errors"] == {"code": ["refused late"]}
    crashed = client.post("/probe/write-then-crash/LATE-500")
    assert crashed.status_code == 500 and crashed.json["code"] == "internal"
    assert branch_named(engine, "LATE-422") == branch_named(engine, "LATE-500") == []
    assert client.post("/probe/write/KEPT").status_code == 200
    assert branch_named(engine, "KEPT") == ["KEPT"]
    assert all(not in_transaction for _, in_transaction, _ in probe_app.config["held"])


def test_a_read_never_commits_and_units_do_not_nest(probe_app, engine):
    client = probe_app.test_client()
    assert client.get("/probe/read-that-commits/READ").status_code == 500
    assert client.get("/probe/nested/NESTED").status_code == 500
    assert branch_named(engine, "READ") == branch_named(engine, "NESTED") == []


def test_every_route_declares_its_unit(app):
    undeclared = {
        endpoint
        for endpoint, view in app.view_functions.items()
        if endpoint not in ("static", "web.static")
        and not endpoint.startswith("api-docs")
        and getattr(view, "unit_of_work", None) not in ("reads", "writes")
        and endpoint not in EXPLICIT
    }
    assert undeclared == set()
    for endpoint in EXPLICIT:
        assert endpoint in app.view_functions


def test_real_reads_leave_no_transaction_open(probe_app, world):
    """After every GET route (lists that dump ORM objects included), the session holds no transaction and
    every pooled connection is back in the pool."""
    api = ApiHelper(probe_app.test_client(), world)
    e = enrollment()
    assert (
        api.push(world.agent_a, changes(enrollments={"created": [e]}, visits={"created": [visit()]}), 1).status_code
        == 200
    )
    spv = api.headers(world.supervisor)
    created = api.client.post("/api/v1/reminders", json={"agent_id": world.agent_a.id, "text": "rapat"}, headers=spv)
    assert created.status_code == 201, created.json
    visit_id = api.client.get("/api/v1/visits", headers=spv).json["items"][0]["id"]
    held = probe_app.config["held"]
    held.clear()
    paths = (
        "/api/v1/me",
        "/api/v1/visits",
        f"/api/v1/visits/{visit_id}",
        "/api/v1/visits.geojson",
        "/api/v1/visits/coverage",
        "/api/v1/enrollments",
        "/api/v1/duplicates",
        "/api/v1/follow-ups",
        "/api/v1/reminders",
        "/api/v1/visits/no-such-visit",
    )
    for path in paths:
        response = api.client.get(path, headers=spv)
        assert response.status_code in (200, 404), (path, response.json)
    assert api.pull(world.agent_a).status_code == 200
    assert api.client.get("/metrics").status_code == 200
    assert api.client.get("/readyz").status_code in (200, 503)
    assert len(held) == len(paths) + 3
    assert [entry for entry in held if entry[1:] != (False, 0)] == []


def test_the_push_archive_is_written_when_the_push_fails(api, world, engine, monkeypatch):
    """The push's unit ends first (rolled back), then the archive is committed in its own transaction."""
    e = enrollment()
    assert api.push(world.agent_a, changes(enrollments={"created": [e]}), 1).status_code == 200
    conflict = api.push(world.agent_a, changes(enrollments={"updated": [e]}, visits={"created": [visit()]}), 1)
    assert conflict.status_code == 409

    real_push = sync_api.push

    def push_then_crash(session, **kwargs):
        real_push(session, **kwargs)  # every record written (flushed) ...
        raise RuntimeError("disk on fire")  # ... then a server fault before the commit

    monkeypatch.setattr(sync_api, "push", push_then_crash)
    crashed = api.push(world.agent_a, changes(visits={"created": [visit()]}), 1)
    assert crashed.status_code == 500
    assert count(engine, Visit) == 0
    with Session(engine) as session:
        rows = session.execute(select(PushArchive.status, PushArchive.outcome).order_by(PushArchive.id)).all()
    assert [status for status, _ in rows] == [200, 409, 500]
    assert rows[2].outcome == "internal_error: RuntimeError"


def test_a_replay_is_rolled_back_and_archived(api, world, engine):
    body = changes(visits={"created": [visit()]})
    first = api.push(world.agent_a, body, 1, **{"Idempotency-Key": "uow-1"})
    again = api.push(world.agent_a, body, 1, **{"Idempotency-Key": "uow-1"})
    assert first.json == again.json and count(engine, Visit) == 1
    with Session(engine) as session:
        outcomes = session.execute(select(PushArchive.outcome).order_by(PushArchive.id)).scalars().all()
    assert outcomes == ["applied", "replayed"]


def test_rate_limit_counts_are_kept_when_the_request_fails(api, world, engine):
    """A push refused by the engine still counted against its budgets (the side transaction committed)."""
    before = count(engine, RateLimitWindow)
    assert api.push(world.agent_a, {"nope": {}}, 1).status_code == 422
    assert count(engine, RateLimitWindow) > before


def test_side_transactions_are_named_and_begin_with_nothing_open(app):
    assert set(SIDE_TRANSACTIONS) == {"rate-limit counters", "push archive"}
    with app.app_context():
        with pytest.raises(KeyError):
            with side_transaction("anything"):
                pass
        db.session.execute(select(Branch.id)).all()
        with pytest.raises(NestedUnit):
            with side_transaction("push archive"):
                pass
        db.session.rollback()
        with pytest.raises(ReadOnlyCommit):
            with read_only():
                db.session.execute(select(Branch.id)).all()
                db.session.commit()
        assert not db.session().in_transaction()
