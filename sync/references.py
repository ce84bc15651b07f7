"""Reference ids a phone writes must point at the pushing agent's own records (docs/security.md).

Otherwise a visit or a follow-up could name any worker and pull that person's data into the agent's
replica (a server-made follow-up carries the visit's worker), or cancel another agent's revisits. Ids of
records in the same push count as the agent's own: the push refuses other agents' ids before this runs.
An unchanged reference (set earlier, e.g. by a supervisor) is kept.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select, union
from sqlalchemy.orm import Session

from .models import Enrollment, FollowUp, Visit
from .tables import REFERENCES
from .writes import chunked, in_ids

NOT_YOURS = "bukan data Anda / not one of your records"
VALID_STATUSES = ("verified", "duplicate")


def own_ids(session: Session, model, agent_id: str, ids: Iterable[str]) -> set[str]:
    """The ids among ``ids`` of the agent's own live enrolments or visits."""
    found: set[str] = set()
    for part in chunked(sorted(set(ids))):
        found.update(
            session.execute(
                select(model.id).where(
                    in_ids(session, model.id, part), model.agent_id == agent_id, model.deleted_at.is_(None)
                )
            ).scalars()
        )
    return found


def own_workers(session: Session, agent_id: str, ids: Iterable[str]) -> set[str]:
    """The workers among ``ids`` the agent may see: linked to its live valid enrolments or live follow-ups.

    An invalid enrolment links to a person for duplicate matching, but grants nothing: a NIK typed alone
    must never open a person to the agent who typed it.
    """
    found: set[str] = set()
    for part in chunked(sorted(set(ids))):
        linked = union(
            select(Enrollment.worker_id).where(
                in_ids(session, Enrollment.worker_id, part),
                Enrollment.agent_id == agent_id,
                Enrollment.deleted_at.is_(None),
                Enrollment.status.in_(VALID_STATUSES),
            ),
            select(FollowUp.worker_id).where(
                in_ids(session, FollowUp.worker_id, part),
                FollowUp.assigned_agent_id == agent_id,
                FollowUp.deleted_at.is_(None),
            ),
        )
        found.update(session.execute(linked).scalars())
    return found


def _allowed(session: Session, agent_id: str, column: str, ids: set[str], pushed: dict[str, set[str]]) -> set[str]:
    if column == "worker_id":
        return own_workers(session, agent_id, ids)
    table, model = ("enrollments", Enrollment) if column == "enrollment_id" else ("visits", Visit)
    same_push = ids & pushed.get(table, set())
    return same_push | own_ids(session, model, agent_id, ids - same_push)


def check_references(
    session: Session,
    agent_id: str,
    table: str,
    values_by_id: dict[str, dict],
    existing: dict[str, dict],
    pushed: dict[str, set[str]],
) -> dict[str, dict[str, list[str]]]:
    """Clear foreign references in pushed records' values; returns ``{record id: {column: [message]}}``."""
    problems: dict[str, dict[str, list[str]]] = {}
    for column in REFERENCES[table]:
        wanted = {values[column] for values in values_by_id.values() if values.get(column)}
        if not wanted:
            continue
        allowed = _allowed(session, agent_id, column, wanted, pushed)
        for rid, values in values_by_id.items():
            value = values.get(column)
            if value and value not in allowed and value != (existing.get(rid) or {}).get(column):
                values[column] = None
                problems.setdefault(rid, {})[column] = [NOT_YOURS]
    return problems
