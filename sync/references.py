"""Reference ids a phone writes must point at the pushing agent's own records.

Otherwise a follow-up could name any worker and pull that person's data into the agent's replica, or a
visit could cancel another agent's revisits. An unchanged reference (set by a supervisor) is kept.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select, union
from sqlalchemy.orm import Session

from .models import Enrollment, FollowUp, Visit
from .writes import chunked, in_ids

NOT_YOURS = "bukan data Anda / not one of your records"


def own_ids(session: Session, model, agent_id: str, ids: Iterable[str]) -> set[str]:
    """The ids among ``ids`` of the agent's own live enrolments or visits."""
    found: set[str] = set()
    for part in chunked(sorted(set(ids))):
        found.update(
            session.execute(
                select(model.id).where(in_ids(session, model.id, part), model.agent_id == agent_id)
            ).scalars()
        )
    return found


def own_workers(session: Session, agent_id: str, ids: Iterable[str]) -> set[str]:
    """The workers among ``ids`` linked to the agent's enrolments or to follow-ups assigned to the agent."""
    found: set[str] = set()
    for part in chunked(sorted(set(ids))):
        linked = union(
            select(Enrollment.worker_id).where(
                in_ids(session, Enrollment.worker_id, part), Enrollment.agent_id == agent_id
            ),
            select(FollowUp.worker_id).where(
                in_ids(session, FollowUp.worker_id, part), FollowUp.assigned_agent_id == agent_id
            ),
        )
        found.update(session.execute(linked).scalars())
    return found


def check_follow_up_references(session: Session, agent_id: str, records: list, existing: dict[str, dict]) -> dict:
    """Clear foreign references in pushed follow-ups; returns ``{record id: {column: [message]}}``."""
    wanted = {
        col: {r.values[col] for r in records if r.values.get(col)} for col in ("enrollment_id", "visit_id", "worker_id")
    }
    allowed = {
        "enrollment_id": own_ids(session, Enrollment, agent_id, wanted["enrollment_id"]),
        "visit_id": own_ids(session, Visit, agent_id, wanted["visit_id"]),
        "worker_id": own_workers(session, agent_id, wanted["worker_id"]),
    }
    problems: dict[str, dict[str, list[str]]] = {}
    for record in records:
        before = existing.get(record.id) or {}
        for column, ok in allowed.items():
            value = record.values.get(column)
            if value and value not in ok and value != before.get(column):
                record.values[column] = None
                problems.setdefault(record.id, {})[column] = [NOT_YOURS]
    return problems
