"""Reference ids a phone writes must point at records its agent may see (the rule: ``sync.accounts.scope``).

Otherwise a visit or a follow-up could name any worker and pull that person's data into the agent's
replica (a server-made follow-up carries the visit's worker), or cancel another agent's revisits. Ids of
records in the same push count as the agent's own: the push refuses other agents' ids before this runs.
An unchanged reference (set earlier, e.g. by a supervisor) is kept.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from sync.accounts import scope
from sync.protocol.tables import REFERENCES

NOT_YOURS = "bukan data Anda / not one of your records"


def _allowed(session: Session, agent_id: str, column: str, ids: set[str], pushed: dict[str, set[str]]) -> set[str]:
    if column == "worker_id":
        return scope.reachable_worker_ids(session, agent_id, ids)
    table, own = (
        ("enrollments", scope.own_enrollment_ids) if column == "enrollment_id" else ("visits", scope.own_visit_ids)
    )
    same_push = ids & pushed.get(table, set())
    return same_push | own(session, agent_id, ids - same_push)


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
