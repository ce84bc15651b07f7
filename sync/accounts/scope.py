"""Who may see and change what: every scope rule of the server, per table, in this one module (docs/api.md).

An agent reaches its own records and the follow-ups assigned to it, a supervisor everything of their
branch, an admin everything. Each rule is a SQLAlchemy condition built from a ``Principal`` that goes
into the very query reading or changing the rows, so an out-of-scope row is never loaded: the caller
answers 404 for it exactly as for an id that does not exist (never 403, so ids leak nothing).

The rules, settled once for every caller:

- A deleted record (``deleted_at`` set) is gone for every role and grants nothing.
- A worker (a person) is reached only through a link: a live enrolment in a granting status (verified
  or duplicate; an invalid enrolment is linked for matching only, a NIK typed alone must never open a
  person) of the agent / of the branch, or a live follow-up assigned to the agent / of the branch. The
  worker itself must be live. A merge moves the absorbed person's enrolments to the survivor, so they
  reach the survivor and never the tombstoned absorbed worker; a merge can be undone by whoever
  reaches its survivor.
- Admins reach every row, deleted workers included (to audit and undo merges). Acting on a worker
  (planning a follow-up, sending a message) needs a live one, whatever the role.
- Agents review nothing: duplicate candidates, reminders and other users are out of their scope.
- A supervisor manages (revokes devices of) the agents of their own branch only, never a peer
  supervisor or an admin; an admin manages everyone.
- A supervisor lists the users of their own branch; the audit trail is the admins' alone.
- What a phone may name in a pushed record is what its agent may see: ``own_enrollment_ids``,
  ``own_visit_ids`` and ``reachable_worker_ids``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from sqlalchemy import ColumnElement, and_, exists, false, or_, select, true
from sqlalchemy.orm import Session

from sync.accounts.principal import Principal
from sync.models import Enrollment, FollowUp, User, Visit, Worker
from sync.models.dedup import DuplicateCandidate, WorkerMerge
from sync.models.org import Device
from sync.models.outreach import Reminder
from sync.models.visit_cells import VisitCell
from sync.protocol.statuses import GRANTING as GRANTING_STATUSES
from sync.writes import chunked, in_ids

Rule = Callable[[str], ColumnElement[bool]]


def _by_role(principal: Principal, *, agent: Rule | None, supervisor: Rule | None) -> ColumnElement[bool]:
    """``agent(user id)``, ``supervisor(branch id)``, or everything for an admin; ``None``: nothing.

    A supervisor without a branch, and any unknown role, reach nothing.
    """
    if principal.role == "admin":
        return true()
    if principal.role == "supervisor" and supervisor is not None and principal.branch_id:
        return supervisor(principal.branch_id)
    if principal.role == "agent" and agent is not None:
        return agent(principal.user_id)
    return false()


# --- enrolments -------------------------------------------------------------------------------------


def _enrollment_owner(principal: Principal) -> ColumnElement[bool]:
    return _by_role(
        principal,
        agent=lambda me: Enrollment.agent_id == me,
        supervisor=lambda branch: Enrollment.branch_id == branch,
    )


def enrollments(principal: Principal) -> ColumnElement[bool]:
    """Live enrolments the caller may see: an agent its own, a supervisor its branch's, an admin all.

    Only the duplicate review (``duplicate_candidates``) shows a supervisor the other side of a pair.
    """
    return and_(Enrollment.deleted_at.is_(None), _enrollment_owner(principal))


# --- visits -----------------------------------------------------------------------------------------


def visits(principal: Principal) -> ColumnElement[bool]:
    """Live visits the caller may see and (supervisors, admins) review: own, branch's, all."""
    return and_(
        Visit.deleted_at.is_(None),
        _by_role(principal, agent=lambda me: Visit.agent_id == me, supervisor=lambda branch: Visit.branch_id == branch),
    )


def visit_cells(principal: Principal) -> ColumnElement[bool]:
    """The rollup cells (``visit_cells``, live visits only) counted for the caller: same rule as ``visits``."""
    return _by_role(
        principal, agent=lambda me: VisitCell.agent_id == me, supervisor=lambda branch: VisitCell.branch_id == branch
    )


# --- follow-ups -------------------------------------------------------------------------------------


def _follow_up_owner(principal: Principal) -> ColumnElement[bool]:
    return _by_role(
        principal,
        agent=lambda me: FollowUp.assigned_agent_id == me,
        supervisor=lambda branch: FollowUp.branch_id == branch,
    )


def follow_ups(principal: Principal) -> ColumnElement[bool]:
    """Live follow-ups the caller may see and (supervisors, admins) change: assigned, branch's, all."""
    return and_(FollowUp.deleted_at.is_(None), _follow_up_owner(principal))


# --- workers ----------------------------------------------------------------------------------------


def _enrolled_through(principal: Principal, worker_id) -> ColumnElement[bool]:
    """A live enrolment in a granting status, in the caller's scope, links ``worker_id``."""
    return exists().where(
        Enrollment.worker_id == worker_id,
        Enrollment.deleted_at.is_(None),
        Enrollment.status.in_(GRANTING_STATUSES),
        _enrollment_owner(principal),
    )


def workers(principal: Principal) -> ColumnElement[bool]:
    """Workers the caller may see (see the module's rules); admins: every worker, deleted ones too."""
    if principal.is_admin:
        return true()
    followed = exists().where(FollowUp.worker_id == Worker.id, follow_ups(principal))
    return and_(Worker.deleted_at.is_(None), or_(_enrolled_through(principal, Worker.id), followed))


def workers_to_act_on(principal: Principal) -> ColumnElement[bool]:
    """Workers the caller may plan a follow-up for or send a message to: visible and live."""
    return and_(Worker.deleted_at.is_(None), workers(principal))


def payable_workers(principal: Principal) -> ColumnElement[bool]:
    """Workers whose payments the caller may import: a supervisor those with a live (granting) enrolment
    of their branch, an admin all live workers, an agent none. A NIK outside this is "unknown"."""
    if principal.is_admin:
        return Worker.deleted_at.is_(None)
    if principal.role != "supervisor":
        return false()
    return and_(Worker.deleted_at.is_(None), _enrolled_through(principal, Worker.id))


def merges(principal: Principal) -> ColumnElement[bool]:
    """Merges (``worker_merges``) the caller may undo: those whose survivor the caller may see."""
    if principal.is_admin:
        return true()
    return exists().where(Worker.id == WorkerMerge.survivor_worker_id, workers(principal))


def link_shown_only_if_visible(status: str, worker_id: str | None) -> bool:
    """Whether an enrolment's link to a person (``worker_id``, ``duplicate_of``) may be shown only to a caller
    who already sees that person: an invalid enrolment is linked for matching, but a NIK typed alone must
    not reveal that the person exists. A valid enrolment's link is always its agent's to see."""
    return bool(worker_id) and status not in GRANTING_STATUSES


def visible_worker_ids(session: Session, principal: Principal, ids: Iterable[str]) -> set[str]:
    """The ids among ``ids`` of workers the caller may see (one query per chunk of ids)."""
    found: set[str] = set()
    for part in chunked(sorted(set(ids))):
        found.update(
            session.execute(select(Worker.id).where(in_ids(session, Worker.id, part), workers(principal))).scalars()
        )
    return found


# --- duplicate review and reminders -----------------------------------------------------------------


def duplicate_candidates(principal: Principal) -> ColumnElement[bool]:
    """Candidates the caller may see and decide: a supervisor those with either side in their branch."""
    return _by_role(
        principal,
        agent=None,
        supervisor=lambda branch: or_(
            DuplicateCandidate.branch_id == branch, DuplicateCandidate.other_branch_id == branch
        ),
    )


def reminders(principal: Principal) -> ColumnElement[bool]:
    """Reminders the caller may see and retry: a supervisor its branch's, an admin all, an agent none."""
    return _by_role(principal, agent=None, supervisor=lambda branch: Reminder.branch_id == branch)


# --- contest ----------------------------------------------------------------------------------------


def contest_branches(principal: Principal, branch_id_column) -> ColumnElement[bool]:
    """Branches whose agent ranking the caller may read: a supervisor their own, an admin every one, an
    agent none. (The branch table itself is counts only: every supervisor and admin reads all of it.)"""
    return _by_role(principal, agent=None, supervisor=lambda branch: branch_id_column == branch)


# --- users and devices ------------------------------------------------------------------------------


def agents(principal: Principal) -> ColumnElement[bool]:
    """Agents the caller may see and message (the map's agent filter): itself, its branch's, all."""
    return and_(
        User.role == "agent",
        _by_role(principal, agent=lambda me: User.id == me, supervisor=lambda branch: User.branch_id == branch),
    )


def users(principal: Principal) -> ColumnElement[bool]:
    """Users the caller may list (``GET /users``): an admin everyone, a supervisor the users of their own
    branch (peers included, to see them; managing them is ``manageable_users``), an agent nobody."""
    return _by_role(principal, agent=None, supervisor=lambda branch: User.branch_id == branch)


def assignable_agents(principal: Principal) -> ColumnElement[bool]:
    """Agents the caller may assign follow-ups to: the visible ones that are active."""
    return and_(agents(principal), User.active.is_(True))


def manageable_users(principal: Principal) -> ColumnElement[bool]:
    """Users the caller may manage (revoke devices, edit): an admin everyone, a supervisor the agents of
    their own branch (never a peer supervisor or an admin), an agent nobody."""
    return _by_role(
        principal, agent=None, supervisor=lambda branch: and_(User.role == "agent", User.branch_id == branch)
    )


def can_manage_user(principal: Principal, user: User) -> bool:
    """``manageable_users`` for one loaded user (prefer the condition inside the query)."""
    if principal.is_admin:
        return True
    return (
        principal.role == "supervisor"
        and principal.branch_id is not None
        and user.role == "agent"
        and user.branch_id == principal.branch_id
    )


def revocable_devices(principal: Principal) -> ColumnElement[bool]:
    """Devices the caller may revoke: those of the users it may manage."""
    if principal.is_admin:
        return true()
    return Device.user_id.in_(select(User.id).where(manageable_users(principal)))


def audit_entries(principal: Principal) -> ColumnElement[bool]:
    """The audit trail (``access_log``) is the admins' alone."""
    return true() if principal.is_admin else false()


# --- references a pushing phone may name ------------------------------------------------------------


def _as_agent(agent_id: str) -> Principal:
    return Principal(user_id=agent_id, username="", role="agent", branch_id=None)


def _ids_where(session: Session, column, ids: Iterable[str], condition: ColumnElement[bool]) -> set[str]:
    found: set[str] = set()
    for part in chunked(sorted(set(ids))):
        found.update(session.execute(select(column).where(in_ids(session, column, part), condition)).scalars())
    return found


def own_enrollment_ids(session: Session, agent_id: str, ids: Iterable[str]) -> set[str]:
    """The ids among ``ids`` of the agent's own live enrolments."""
    return _ids_where(session, Enrollment.id, ids, enrollments(_as_agent(agent_id)))


def own_visit_ids(session: Session, agent_id: str, ids: Iterable[str]) -> set[str]:
    """The ids among ``ids`` of the agent's own live visits."""
    return _ids_where(session, Visit.id, ids, visits(_as_agent(agent_id)))


def reachable_worker_ids(session: Session, agent_id: str, ids: Iterable[str]) -> set[str]:
    """The ids among ``ids`` of live workers the agent may see: linked to its live enrolments in a granting
    status or to live follow-ups assigned to it (what its pull brings)."""
    return visible_worker_ids(session, _as_agent(agent_id), ids)
