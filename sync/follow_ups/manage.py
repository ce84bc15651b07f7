"""Follow-ups as supervisors see and steer them: list, create, reassign and reschedule.

Every change is stamped by the sync clock so phones pull it. A reassignment is a deletion for the old
agent (a ``ScopeExit`` row, reported by the next pull) and a creation for the new one: the row's
``server_created_at`` moves to the reassignment's stamp, so the new agent's pull lists it under
``created`` (docs/sync.md "Pull": records that entered the caller's scope).
"""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from sync import audit
from sync.accounts import scope
from sync.accounts.principal import Principal
from sync.calendar import workdays
from sync.errors import InvalidRequest, NotFound
from sync.follow_ups.rules import branch_zone
from sync.models import Enrollment, FollowUp, ScopeExit, User, Visit, Worker, new_id
from sync.pagination import Page, paginate
from sync.protocol.clock import next_stamp

OPEN_STATUSES = ("scheduled", "missed")


def get_follow_up(session: Session, *, principal: Principal, follow_up_id: str) -> FollowUp:
    """A follow-up in the caller's scope (``sync.accounts.scope.follow_ups``), else ``NotFound``."""
    found = session.execute(
        select(FollowUp).where(FollowUp.id == follow_up_id, scope.follow_ups(principal))
    ).scalar_one_or_none()
    if found is None:
        raise NotFound(f"no follow-up {follow_up_id}")
    return found


def list_follow_ups(
    session: Session,
    *,
    principal: Principal,
    now: int,
    status: str | None = None,
    overdue: bool | None = None,
    agent_id: str | None = None,
    worker_id: str | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> Page:
    """Newest changes first; ``overdue=true``: still open (scheduled or missed) and due before ``now``."""
    query = select(FollowUp).where(scope.follow_ups(principal))
    if status:
        query = query.where(FollowUp.status == status)
    if agent_id:
        query = query.where(FollowUp.assigned_agent_id == agent_id)
    if worker_id:
        query = query.where(FollowUp.worker_id == worker_id)
    if overdue is True:
        query = query.where(FollowUp.status.in_(OPEN_STATUSES), FollowUp.due_at < now)
    elif overdue is False:
        query = query.where(or_(FollowUp.status.not_in(OPEN_STATUSES), FollowUp.due_at >= now))
    return paginate(
        session, query, sort_column=FollowUp.last_modified, id_column=FollowUp.id, limit=limit, cursor=cursor
    )


# What a new follow-up may name: a record the caller may see (else it is "unknown", like a wrong id).
REFERENCES = (
    ("worker_id", Worker.id, scope.workers_to_act_on),
    ("enrollment_id", Enrollment.id, scope.enrollments),
    ("visit_id", Visit.id, scope.visits),
)


def _check_references(session: Session, principal: Principal, values: dict) -> None:
    errors = {}
    for name, column, rule in REFERENCES:
        if values.get(name):
            found = session.execute(select(column).where(column == values[name], rule(principal))).first()
            if found is None:
                errors[name] = ["tidak dikenal / unknown"]
    if errors:
        raise InvalidRequest(f"unknown {', '.join(sorted(errors))}", errors=errors)


def _agent(session: Session, principal: Principal, agent_id: str) -> User:
    """An active agent the caller may assign work to (``sync.accounts.scope.assignable_agents``)."""
    agent = session.execute(
        select(User).where(User.id == agent_id, scope.assignable_agents(principal))
    ).scalar_one_or_none()
    if agent is None:
        raise InvalidRequest(
            "assigned_agent_id is not an active agent of your branch",
            errors={"assigned_agent_id": ["bukan agen aktif cabang Anda / not an active agent of your branch"]},
        )
    return agent


def _zone(session: Session, follow_up_visit_id: str | None, branch_id: str | None) -> str:
    if follow_up_visit_id:
        visit = session.get(Visit, follow_up_visit_id)
        if visit is not None and visit.timezone in workdays.ZONES:
            return visit.timezone
    return branch_zone(session, branch_id)


def create_follow_up(session: Session, *, principal: Principal, values: dict) -> FollowUp:
    """A follow-up a supervisor plans for one of their agents; its due time snaps into working hours."""
    agent = _agent(session, principal, values["assigned_agent_id"])
    fid = values.get("id") or new_id()
    if session.get(FollowUp, fid) is not None:
        raise InvalidRequest("id already in use", errors={"id": ["id sudah dipakai / id already in use"]})
    _check_references(session, principal, values)
    stamp = next_stamp(session)
    tz = _zone(session, values.get("visit_id"), agent.branch_id)
    follow_up = FollowUp(
        id=fid,
        server_created_at=stamp,
        last_modified=stamp,
        deleted_at=None,
        created_by_device=None,
        enrollment_id=values.get("enrollment_id"),
        worker_id=values.get("worker_id"),
        visit_id=values.get("visit_id"),
        kind=values.get("kind") or "revisit",
        due_at=workdays.within_working_hours(values["due_at"], tz),
        status="scheduled",
        outcome_notes=values.get("outcome_notes"),
        completed_at=None,
        assigned_agent_id=agent.id,
        branch_id=agent.branch_id,
    )
    session.add(follow_up)
    session.flush()
    return follow_up


def change_follow_up(session: Session, *, principal: Principal, follow_up_id: str, changes: dict) -> FollowUp:
    """Reassign (``assigned_agent_id``), reschedule (``due_at``), or set ``status``/``outcome_notes``."""
    follow_up = get_follow_up(session, principal=principal, follow_up_id=follow_up_id)
    new_agent = None
    if changes.get("assigned_agent_id") and changes["assigned_agent_id"] != follow_up.assigned_agent_id:
        new_agent = _agent(session, principal, changes["assigned_agent_id"])
    stamp = next_stamp(session)
    session.refresh(follow_up)  # re-read under the clock's lock: a push may have committed meanwhile
    if new_agent is not None:
        audit.record(
            session, principal, audit.FOLLOW_UP_REASSIGN, table="follow_ups", subject_id=follow_up.id,
            detail={"from": follow_up.assigned_agent_id, "to": new_agent.id},
        )  # fmt: skip
        if follow_up.assigned_agent_id:
            session.add(
                ScopeExit(
                    agent_id=follow_up.assigned_agent_id, table_name="follow_ups", record_id=follow_up.id, stamp=stamp
                )
            )
        follow_up.assigned_agent_id = new_agent.id
        follow_up.branch_id = new_agent.branch_id
        follow_up.server_created_at = stamp  # a creation for the new agent's phone
        follow_up.created_by_device = None
    if changes.get("due_at") is not None:
        tz = _zone(session, follow_up.visit_id, follow_up.branch_id)
        follow_up.due_at = workdays.within_working_hours(changes["due_at"], tz)
        if follow_up.status == "missed" and "status" not in changes:
            follow_up.status = "scheduled"
    if changes.get("status"):
        follow_up.status = changes["status"]
    if "outcome_notes" in changes:
        follow_up.outcome_notes = changes["outcome_notes"]
    follow_up.last_modified = stamp
    session.flush()
    return follow_up
