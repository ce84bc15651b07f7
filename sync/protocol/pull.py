"""Changes since a phone's last pull, for one agent's scope (docs/sync.md "Pull", §3.8).

The caller opens a snapshot transaction (``sync.db.begin_snapshot``) so the clock value returned as
``timestamp`` and every row read describe the same point in history.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import and_, func, or_, select, union
from sqlalchemy.orm import Session

from sync.accounts import scope
from sync.accounts.principal import Principal, require_agent
from sync.errors import InvalidRequest
from sync.models import Enrollment, FollowUp, ScopeExit, Visit, Worker
from sync.pii import PiiProtector
from sync.protocol.clock import current_stamp, now_ms
from sync.protocol.sanitize import storable_text
from sync.protocol.tables import TABLES

FIRST_SYNC_VISIT_DAYS = 90
DAY_MS = 86_400_000


@dataclass(frozen=True)
class Migration:
    """A migration sync request: tables and columns added since ``from_version`` (§3.6)."""

    from_version: int
    tables: frozenset[str]
    columns: dict[str, frozenset[str]]


def parse_migration(raw: str | None) -> Migration | None:
    """Parse the ``migration`` query parameter; only whitelisted tables and columns are honoured."""
    if raw in (None, "", "null"):
        return None
    try:
        data = json.loads(raw)
        from_version = data["from"]
        if isinstance(from_version, bool) or not isinstance(from_version, int) or not 0 <= from_version < 2**31:
            raise ValueError("from must be a schema version (a small non-negative integer)")
        if not isinstance(data["tables"], list) or not isinstance(data["columns"], list):
            raise ValueError("tables and columns must be arrays")
        if not all(isinstance(c["table"], str) and isinstance(c["columns"], list) for c in data["columns"]):
            raise ValueError("columns must be [{table: string, columns: [string]}]")
        tables = frozenset(t for t in data["tables"] if isinstance(t, str) and t in TABLES)
        columns = {
            c["table"]: frozenset(name for name in c["columns"] if name in {col.name for col in TABLES[c["table"]]})
            for c in data["columns"]
            if c["table"] in TABLES
        }
        return Migration(from_version, tables, columns)
    except (ValueError, KeyError, TypeError, RecursionError) as exc:
        raise InvalidRequest(
            "migration must be null or {from, tables, columns}",
            errors={"migration": [storable_text(str(exc), 200) or "malformed"]},
        ) from exc


class _Changes:
    """Collects one response, guaranteeing each id appears once per table (pull shape rule 2)."""

    def __init__(self) -> None:
        self.tables: dict[str, dict[str, list]] = {t: {"created": [], "updated": [], "deleted": []} for t in TABLES}
        self.seen: dict[str, set[str]] = {t: set() for t in TABLES}

    def add(self, table: str, kind: str, record: dict | str) -> None:
        rid = record if isinstance(record, str) else record["id"]
        if rid not in self.seen[table]:
            self.seen[table].add(rid)
            self.tables[table][kind].append(record)


def _number(value):
    if isinstance(value, int):
        return value
    return int(value) if value.is_integer() and abs(value) < 2**53 else value


def _converter(kind: str):
    return {"number": _number, "boolean": bool}.get(kind)


# Per table: (column, converter to its JSON type or None), computed once.
_COLUMNS = {table: tuple((c.name, _converter(c.type)) for c in columns) for table, columns in TABLES.items()}


def _serialize(table: str, row, extra: dict | None = None) -> dict:
    """A complete record: every column of the phone's schema, with its JSON type."""
    record = {"id": row["id"]}
    get = row.get
    for name, convert in _COLUMNS[table]:
        value = extra[name] if extra and name in extra else get(name)
        record[name] = convert(value) if convert and value is not None else value
    return record


class Puller:
    """One pull for one agent device."""

    def __init__(
        self,
        session: Session,
        principal: Principal,
        pii: PiiProtector,
        last_pulled_at: int,
        migration: Migration | None,
    ):
        self.session, self.principal, self.pii = session, principal, pii
        self.lpa = last_pulled_at
        self.migration = migration
        self.out = _Changes()
        self._visible: set[str] | None = None

    def since(self, table: str) -> int:
        """0 for a full pull of the table (first sync, or a migration added it or its columns)."""
        m = self.migration
        if m and (table in m.tables or m.columns.get(table)):
            return 0
        return self.lpa

    def classify(self, row, since: int) -> str:
        if row["server_created_at"] > since and row.get("created_by_device") != self.principal.device_id:
            return "created"
        if row["server_created_at"] > since and since == 0:
            return "created"
        return "updated"

    def emit(self, table: str, rows, since: int, extra=None) -> None:
        for row in rows:
            if row["deleted_at"] is not None:
                if since:
                    self.out.add(table, "deleted", row["id"])
                continue
            self.out.add(table, self.classify(row, since), _serialize(table, row, extra(row) if extra else None))

    def enrollments(self) -> None:
        since = self.since("enrollments")
        rows = self.session.execute(
            select(Enrollment.__table__).where(
                Enrollment.agent_id == self.principal.user_id, Enrollment.last_modified > since
            )
        ).mappings()

        def personal(row):
            values = {
                "nik": self.pii.decrypt(row["nik_encrypted"], row_id=row["id"]),
                "phone": self.pii.decrypt(row["phone_encrypted"], row_id=row["id"]),
                "updated_at": row["last_modified"],
            }
            if scope.link_shown_only_if_visible(row["status"], row["worker_id"]) and not self.may_see(row["worker_id"]):
                values.update(worker_id=None, duplicate_of=None)  # a NIK typed alone is no oracle
            return values

        self.emit("enrollments", rows, since, personal)

    def visits(self, now: int) -> None:
        since = self.since("visits")
        query = select(Visit.__table__).where(Visit.agent_id == self.principal.user_id, Visit.last_modified > since)
        if since == 0:
            cutoff = now - FIRST_SYNC_VISIT_DAYS * DAY_MS
            query = query.where(or_(Visit.visited_at >= cutoff, Visit.server_created_at >= cutoff))
        self.emit("visits", self.session.execute(query).mappings(), since)

    def follow_ups(self) -> None:
        since = self.since("follow_ups")
        rows = self.session.execute(
            select(FollowUp.__table__).where(
                FollowUp.assigned_agent_id == self.principal.user_id, FollowUp.last_modified > since
            )
        ).mappings()
        self.emit("follow_ups", rows, since)

    def may_see(self, worker_id: str) -> bool:
        """Whether the worker is in this agent's scope (read once per pull, only when needed)."""
        if self._visible is None:
            self._visible = set(self.session.execute(select(self._links().c.worker_id)).scalars())
        return worker_id in self._visible

    def _links(self, linked_by: int | None = None):
        """Ids of workers linked to the agent's live enrolments and follow-ups (``linked_by``: links made by then)."""
        # The same links as sync.accounts.scope.workers: an invalid enrolment's link grants nothing.
        enrol = select(Enrollment.worker_id).where(
            scope.enrollments(self.principal),
            Enrollment.status.in_(scope.GRANTING_STATUSES),
            Enrollment.worker_id.is_not(None),
        )
        follow = select(FollowUp.worker_id).where(scope.follow_ups(self.principal), FollowUp.worker_id.is_not(None))
        if linked_by is not None:
            linked_at = func.coalesce(Enrollment.worker_linked_at, Enrollment.server_created_at)
            enrol = enrol.where(linked_at <= linked_by)
            follow = follow.where(FollowUp.server_created_at <= linked_by)
        return union(enrol, follow).subquery()

    def workers(self) -> None:
        """Workers linked to the agent's records: `created` when new to the phone (new, or newly linked)."""
        since = self.since("workers")
        linked = self._links()
        query = select(Worker.__table__).where(Worker.id.in_(select(linked.c.worker_id)))
        if since:
            before = self._links(since)
            was_in_scope = Worker.id.in_(select(before.c.worker_id))
            query = select(Worker.__table__, was_in_scope.label("was_in_scope")).where(
                Worker.id.in_(select(linked.c.worker_id)), or_(Worker.last_modified > since, ~was_in_scope)
            )
        for row in self.session.execute(query).mappings():
            if row["deleted_at"] is not None:
                if since:
                    self.out.add("workers", "deleted", row["id"])
                continue
            known = since and row["server_created_at"] <= since and row["was_in_scope"]
            self.out.add("workers", "updated" if known else "created", _serialize("workers", row))

    def scope_exits(self) -> None:
        """Records that left this agent's scope are deletions, unless they are (back) in scope now."""
        if not self.lpa:
            return
        rows = self.session.execute(
            select(ScopeExit.table_name, ScopeExit.record_id).where(
                and_(ScopeExit.agent_id == self.principal.user_id, ScopeExit.stamp > self.lpa)
            )
        ).all()
        for table, rid in rows:
            if table == "follow_ups":
                owner = self.session.execute(
                    select(FollowUp.assigned_agent_id).where(FollowUp.id == rid)
                ).scalar_one_or_none()
                if owner == self.principal.user_id:
                    continue
            elif table == "workers" and self.may_see(rid):
                continue
            self.out.add(table, "deleted", rid)


def pull(
    session: Session,
    *,
    principal: Principal,
    last_pulled_at: int | None,
    pii: PiiProtector,
    migration: Migration | None = None,
) -> dict:
    """Return ``{"changes", "timestamp"}`` for the agent behind ``principal``."""
    require_agent(principal)
    timestamp = current_stamp(session)
    puller = Puller(session, principal, pii, last_pulled_at or 0, migration)
    puller.enrollments()
    puller.visits(now_ms())
    puller.follow_ups()
    puller.workers()
    puller.scope_exits()
    # Never 0 (WatermelonDB refuses it) and never below what the phone already has (§3.3 rule 7).
    return {"changes": puller.out.tables, "timestamp": max(timestamp, last_pulled_at or 0, 1)}
