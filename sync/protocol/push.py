"""Apply one push (docs/sync.md "Push") in the caller's transaction: all or nothing, conflicts refused.

Order matters: parse first (no lock for garbage), then take the clock's lock, then check conflicts and
write. Everything the push writes carries the one stamp it took, so a later pull sees all of it or none.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import update
from sqlalchemy.orm import Session

from sync.accounts.principal import Principal, require_agent
from sync.errors import Conflict
from sync.models import Branch, Enrollment, FollowUp, ScopeExit, Visit
from sync.pii import PiiProtector
from sync.protocol import idempotency, pipeline
from sync.protocol.changes import ParsedPush, parse_changes
from sync.protocol.clock import next_stamp
from sync.protocol.context import PushContext
from sync.protocol.statuses import RecordStatus
from sync.settings import EngineSettings
from sync.writes import chunked, load_by_ids

MODELS: dict[str, type[Enrollment] | type[Visit] | type[FollowUp]] = {
    "enrollments": Enrollment,
    "visits": Visit,
    "follow_ups": FollowUp,
}
OWNER_COLUMN = {"enrollments": "agent_id", "visits": "agent_id", "follow_ups": "assigned_agent_id"}


@dataclass
class PushOutcome:
    timestamp: int
    results: dict[str, dict[str, dict]] = field(default_factory=dict)
    replayed: bool = False
    status: int = 200
    stored_body: dict | None = None

    def body(self) -> dict:
        if self.stored_body is not None:
            return self.stored_body
        rejected = {
            table: [
                rid for rid, res in items.items() if res["status"] == RecordStatus.REJECTED and not rid.startswith("#")
            ]
            for table, items in self.results.items()
        }
        return {
            "timestamp": self.timestamp,
            "results": self.results,
            "experimentalRejectedIds": {t: ids for t, ids in rejected.items() if ids},
        }


def _load_own(session: Session, ctx: PushContext, parsed: ParsedPush, results: dict) -> dict[str, dict]:
    """Load the pushed ids; refuse other agents' ids per record and stale ones for the whole push."""
    loaded: dict[str, dict] = {}
    conflicts: dict[str, list[str]] = {}
    for table, work in parsed.tables.items():
        rows = load_by_ids(session, MODELS[table], [*work.upserts, *work.deletes])
        owner = OWNER_COLUMN[table]
        mine = {}
        for rid, row in rows.items():
            if row[owner] != ctx.principal.user_id:
                if work.upserts.pop(rid, None) is not None:
                    results.setdefault(table, {})[rid] = {
                        "status": RecordStatus.REJECTED,
                        "errors": {"id": ["id sudah dipakai / id already in use"]},
                    }
                continue
            mine[rid] = row
            if row["last_modified"] > ctx.last_pulled_at:
                conflicts.setdefault(f"changes.{table}", []).append(
                    f"{rid}: changed on the server after last_pulled_at; pull and push again"
                )
        work.deletes = [rid for rid in work.deletes if rid in mine]
        loaded[table] = mine
    if conflicts:
        raise Conflict("records changed on the server since your last pull", errors=conflicts)
    return loaded


def _delete(session: Session, ctx: PushContext, table: str, ids: list[str], rows: dict[str, dict]) -> None:
    """Soft-delete (tombstone) and take descendants along: follow-ups of deleted enrolments and visits."""
    model = MODELS[table]
    live = [rid for rid in ids if rows[rid]["deleted_at"] is None]
    for part in chunked(live):
        session.execute(update(model).where(model.id.in_(part)).values(deleted_at=ctx.stamp, last_modified=ctx.stamp))
        if table in ("enrollments", "visits"):
            parent = FollowUp.enrollment_id if table == "enrollments" else FollowUp.visit_id
            session.execute(
                update(FollowUp)
                .where(parent.in_(part), FollowUp.deleted_at.is_(None))
                .values(deleted_at=ctx.stamp, last_modified=ctx.stamp)
            )
    if table == "enrollments":
        for rid in live:
            if rows[rid].get("worker_id"):
                session.add(
                    ScopeExit(
                        agent_id=ctx.principal.user_id,
                        table_name="workers",
                        record_id=rows[rid]["worker_id"],
                        stamp=ctx.stamp,
                    )
                )


def push(
    session: Session,
    *,
    principal: Principal,
    changes: object,
    last_pulled_at: int,
    pii: PiiProtector,
    idempotency_key: str | None = None,
    today: dt.date | None = None,
    settings: EngineSettings | None = None,
) -> PushOutcome:
    """Apply a WatermelonDB push for an agent and return per-record results.

    ``settings`` are the engine's (geo thresholds, matching model, follow-up rules), parsed once by the
    caller; without them the defaults apply (``EngineSettings()``).
    """
    require_agent(principal)
    parsed = parse_changes(changes)
    stamp = next_stamp(session)
    print_ = ""
    if idempotency_key:
        print_ = idempotency.fingerprint({"changes": changes, "last_pulled_at": last_pulled_at})
        stored = idempotency.stored_response(session, user_id=principal.user_id, key=idempotency_key, print_=print_)
        if stored is not None:
            return PushOutcome(timestamp=stamp, replayed=True, status=stored[0], stored_body=stored[1])
    branch = session.get(Branch, principal.branch_id) if principal.branch_id else None
    ctx = PushContext(
        principal=principal,
        pii=pii,
        stamp=stamp,
        last_pulled_at=last_pulled_at,
        today=today or dt.date.today(),
        branch_location=(branch.latitude, branch.longitude) if branch else None,
        settings=settings if settings is not None else EngineSettings(),
    )
    results: dict[str, dict[str, dict]] = {t: dict(v) for t, v in parsed.rejected.items()}
    loaded = _load_own(session, ctx, parsed, results)
    ctx.pushed = {table: set(work.upserts) for table, work in parsed.tables.items()}
    for table, handler in pipeline.HANDLERS:
        work = parsed.tables.get(table)
        if work is None:
            continue
        table_results = results.setdefault(table, {})
        if work.upserts:
            table_results.update(handler(session, ctx, list(work.upserts.values()), loaded[table]))
        _delete(session, ctx, table, work.deletes, loaded[table])
        table_results.update({rid: {"status": RecordStatus.DELETED} for rid in work.deletes})
        ctx.applied.deleted[table] = work.deletes
    pipeline.run_steps(session, ctx)
    outcome = PushOutcome(timestamp=stamp, results=results)
    if idempotency_key:
        idempotency.remember_response(
            session, user_id=principal.user_id, key=idempotency_key, print_=print_, status=200, body=outcome.body()
        )
    return outcome
