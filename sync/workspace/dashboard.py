"""The branch dashboard: what happened today and this period, what is waiting, and two small charts.

One call, a handful of aggregate queries (no row is loaded): visits and enrolments by status per window,
open duplicate pairs, visits with an unreviewed flag, overdue follow-ups, dead reminders, visits per
local day and enrolments per agent. ``branch_id`` narrows an admin's view to one branch; for anyone else
it can only narrow their scope further (a branch outside it counts nothing).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from sync.accounts import scope
from sync.accounts.principal import Principal
from sync.follow_ups.manage import OPEN_STATUSES
from sync.geo.timezones import offset_ms
from sync.models import Enrollment, FollowUp, User, Visit
from sync.models.dedup import DuplicateCandidate
from sync.models.outreach import Reminder
from sync.visits.rollup import day_of
from sync.workspace import flagged
from sync.workspace.windows import Window

EPOCH = dt.date(1970, 1, 1)
TOP_AGENTS = 15  # the enrolments-per-agent chart shows the busiest agents only


@dataclass(frozen=True)
class WindowCounts:
    visits: int
    enrollments: dict[str, int]  # status -> count, by arrival on the server (``server_created_at``)

    @property
    def enrollments_total(self) -> int:
        return sum(self.enrollments.values())


@dataclass(frozen=True)
class AgentEnrollments:
    agent_id: str
    name: str
    by_status: dict[str, int]


@dataclass
class Dashboard:
    today: WindowCounts
    period: WindowCounts
    open_duplicates: int
    open_flags: int
    overdue_follow_ups: int
    dead_reminders: int
    visits_per_day: list[tuple[dt.date, int]] = field(default_factory=list)
    enrollments_per_agent: list[AgentEnrollments] = field(default_factory=list)


def _branch(column, branch_id: str | None) -> list[ColumnElement[bool]]:
    return [] if branch_id is None else [column == branch_id]


def _window_counts(session: Session, principal: Principal, branch_id: str | None, window: Window) -> WindowCounts:
    visits = session.execute(
        select(func.count())
        .select_from(Visit)
        .where(
            scope.visits(principal),
            *_branch(Visit.branch_id, branch_id),
            Visit.visited_at >= window.start,
            Visit.visited_at < window.end,
        )
    ).scalar_one()
    by_status = session.execute(
        select(Enrollment.status, func.count())
        .where(
            scope.enrollments(principal),
            *_branch(Enrollment.branch_id, branch_id),
            Enrollment.server_created_at >= window.start,
            Enrollment.server_created_at < window.end,
        )
        .group_by(Enrollment.status)
    ).all()
    return WindowCounts(visits, {status: count for status, count in by_status})


def _visits_per_day(
    session: Session, principal: Principal, branch_id: str | None, window: Window, tz: str
) -> list[tuple[dt.date, int]]:
    day = day_of(Visit.visited_at + offset_ms(tz)).label("day")
    rows = session.execute(
        select(day, func.count())
        .where(
            scope.visits(principal),
            *_branch(Visit.branch_id, branch_id),
            Visit.visited_at >= window.start,
            Visit.visited_at < window.end,
        )
        .group_by(day)
    ).all()
    counts = {EPOCH + dt.timedelta(days=int(number)): count for number, count in rows}
    return [(d, counts.get(d, 0)) for d in window.days()]


def _enrollments_per_agent(
    session: Session, principal: Principal, branch_id: str | None, window: Window
) -> list[AgentEnrollments]:
    rows = session.execute(
        select(Enrollment.agent_id, Enrollment.status, func.count())
        .where(
            scope.enrollments(principal),
            *_branch(Enrollment.branch_id, branch_id),
            Enrollment.server_created_at >= window.start,
            Enrollment.server_created_at < window.end,
        )
        .group_by(Enrollment.agent_id, Enrollment.status)
    ).all()
    per_agent: dict[str, dict[str, int]] = {}
    for agent_id, status, count in rows:
        per_agent.setdefault(agent_id, {})[status] = count
    busiest = sorted(per_agent, key=lambda a: (-sum(per_agent[a].values()), a))[:TOP_AGENTS]
    names = dict(
        session.execute(select(User.id, func.coalesce(User.full_name, User.username)).where(User.id.in_(busiest))).all()
    )
    return [AgentEnrollments(a, names.get(a, a), per_agent[a]) for a in busiest]


def _count(session: Session, model, *conditions: ColumnElement[bool]) -> int:
    return session.execute(select(func.count()).select_from(model).where(*conditions)).scalar_one()


def summary(
    session: Session,
    *,
    principal: Principal,
    branch_id: str | None,
    now: int,
    tz: str,
    today: Window,
    period: Window,
    chart: Window,
) -> Dashboard:
    """The dashboard of ``branch_id`` (``None``: everything in the caller's scope) at ``now``."""
    duplicates = [scope.duplicate_candidates(principal), DuplicateCandidate.status == "open"]
    if branch_id is not None:
        duplicates.append(
            or_(DuplicateCandidate.branch_id == branch_id, DuplicateCandidate.other_branch_id == branch_id)
        )
    return Dashboard(
        today=_window_counts(session, principal, branch_id, today),
        period=_window_counts(session, principal, branch_id, period),
        open_duplicates=_count(session, DuplicateCandidate, *duplicates),
        open_flags=flagged.count_unreviewed(session, principal=principal, branch_id=branch_id),
        overdue_follow_ups=_count(
            session,
            FollowUp,
            scope.follow_ups(principal),
            *_branch(FollowUp.branch_id, branch_id),
            FollowUp.status.in_(OPEN_STATUSES),
            FollowUp.due_at < now,
        ),
        dead_reminders=_count(
            session,
            Reminder,
            scope.reminders(principal),
            *_branch(Reminder.branch_id, branch_id),
            Reminder.status == "dead",
        ),
        visits_per_day=_visits_per_day(session, principal, branch_id, chart, tz),
        enrollments_per_agent=_enrollments_per_agent(session, principal, branch_id, period),
    )
