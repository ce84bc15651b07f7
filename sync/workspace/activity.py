"""Agents as their supervisor weighs them: activity and quality over a window, and their devices.

Quality, per agent, over the window:

- duplicate rate: enrolments that turned out ``duplicate`` / enrolments received;
- flag rate: visits carrying any flag / visits;
- follow-ups done on time: ``done`` with ``completed_at`` no later than ``due_at`` plus the grace after
  which the scheduler calls a follow-up ``missed`` / follow-ups due in the window (cancelled ones aside).

Each figure is one grouped query over the page's agents; a rate with nothing to divide by is ``None``.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from sync.accounts import scope
from sync.accounts.principal import Principal
from sync.errors import NotFound
from sync.models import Device, Enrollment, FollowUp, User, Visit
from sync.pagination import Page, paginate
from sync.protocol.statuses import EnrollmentStatus
from sync.workspace.flagged import flagged
from sync.workspace.windows import Window

ACTIVE_CHOICES = ("active", "inactive", "all")


@dataclass(frozen=True)
class Activity:
    visits: int = 0
    flagged_visits: int = 0
    enrollments: int = 0
    verified: int = 0
    duplicates: int = 0
    follow_ups_due: int = 0
    follow_ups_on_time: int = 0

    @staticmethod
    def _rate(part: int, whole: int) -> float | None:
        return round(100.0 * part / whole, 1) if whole else None

    @property
    def duplicate_rate(self) -> float | None:
        return self._rate(self.duplicates, self.enrollments)

    @property
    def flag_rate(self) -> float | None:
        return self._rate(self.flagged_visits, self.visits)

    @property
    def on_time_rate(self) -> float | None:
        return self._rate(self.follow_ups_on_time, self.follow_ups_due)


@dataclass(frozen=True)
class AgentFilters:
    branch_id: str | None = None
    text: str | None = None  # part of the username or full name
    active: str = "active"


def list_agents(session: Session, *, principal: Principal, filters: AgentFilters, limit: int, cursor) -> Page:
    """Agents in scope (``sync.accounts.scope.agents``) by username."""
    query = select(User).where(scope.agents(principal))
    if filters.branch_id is not None:
        query = query.where(User.branch_id == filters.branch_id)
    if filters.active == "active":
        query = query.where(User.active.is_(True))
    elif filters.active == "inactive":
        query = query.where(User.active.is_(False))
    if filters.text:
        pattern = "%" + filters.text.lower().replace("\\", "").replace("%", "").replace("_", "") + "%"
        query = query.where(
            or_(func.lower(User.username).like(pattern), func.lower(func.coalesce(User.full_name, "")).like(pattern))
        )
    return paginate(
        session, query, sort_column=User.username, id_column=User.id, limit=limit, cursor=cursor, descending=False
    )


def get_agent(session: Session, *, principal: Principal, agent_id: str) -> User:
    agent = session.execute(select(User).where(User.id == agent_id, scope.agents(principal))).scalar_one_or_none()
    if agent is None:
        raise NotFound("no such agent")
    return agent


def _counted(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def activity(
    session: Session, *, principal: Principal, agent_ids: list[str], window: Window, grace_ms: int
) -> dict[str, Activity]:
    """Each agent's figures over ``window`` (agents without any record get zeros)."""
    if not agent_ids:
        return {}
    values: dict[str, dict[str, int]] = {a: {} for a in agent_ids}
    visits = session.execute(
        select(Visit.agent_id, func.count(), _counted(flagged()))
        .where(
            scope.visits(principal),
            Visit.agent_id.in_(agent_ids),
            Visit.visited_at >= window.start,
            Visit.visited_at < window.end,
        )
        .group_by(Visit.agent_id)
    )
    for agent_id, count, flagged_count in visits:
        values[agent_id] |= {"visits": count, "flagged_visits": int(flagged_count)}
    enrollments = session.execute(
        select(
            Enrollment.agent_id,
            func.count(),
            _counted(Enrollment.status == EnrollmentStatus.VERIFIED),
            _counted(Enrollment.status == EnrollmentStatus.DUPLICATE),
        )
        .where(
            scope.enrollments(principal),
            Enrollment.agent_id.in_(agent_ids),
            Enrollment.server_created_at >= window.start,
            Enrollment.server_created_at < window.end,
        )
        .group_by(Enrollment.agent_id)
    )
    for agent_id, count, verified, duplicates in enrollments:
        values[agent_id] |= {"enrollments": count, "verified": int(verified), "duplicates": int(duplicates)}
    on_time = and_(
        FollowUp.status == "done",
        FollowUp.completed_at.is_not(None),
        FollowUp.completed_at <= FollowUp.due_at + grace_ms,
    )
    follow_ups = session.execute(
        select(FollowUp.assigned_agent_id, func.count(), _counted(on_time))
        .where(
            scope.follow_ups(principal),
            FollowUp.assigned_agent_id.in_(agent_ids),
            FollowUp.status != "cancelled",
            FollowUp.due_at >= window.start,
            FollowUp.due_at < window.end,
        )
        .group_by(FollowUp.assigned_agent_id)
    )
    for assignee, due, done in follow_ups:
        if assignee is not None:  # the IN filter already excludes NULL; this tells the type checker
            values[assignee] |= {"follow_ups_due": due, "follow_ups_on_time": int(done)}
    return {agent_id: Activity(**counts) for agent_id, counts in values.items()}


def devices(session: Session, *, principal: Principal, user_id: str) -> list[Device]:
    """The user's devices the caller may revoke or restore (``scope.revocable_devices``), newest first."""
    return list(
        session.execute(
            select(Device)
            .where(Device.user_id == user_id, scope.revocable_devices(principal))
            .order_by(Device.created_at.desc(), Device.id)
        ).scalars()
    )


def get_device(session: Session, *, principal: Principal, device_id: str) -> Device:
    """A device the caller may revoke or restore, else ``NotFound``."""
    device = session.execute(
        select(Device).where(Device.id == device_id, scope.revocable_devices(principal))
    ).scalar_one_or_none()
    if device is None:
        raise NotFound("device not found")
    return device
