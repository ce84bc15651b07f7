"""The branch dashboard: what happened today and this period, what is waiting, and two small charts.

One call, six aggregate queries (no row is loaded): visits per local day (which also gives today's and
the period's counts), enrolments per agent and status with today's and the period's arrivals side by side
(the counts by status and the per-agent chart), open duplicate pairs, visits with an unreviewed flag,
overdue follow-ups and dead reminders. ``branch_id`` narrows an admin's view to one branch; for anyone else
it can only narrow their scope further (a branch outside it counts nothing).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import and_, case, func, or_, select
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


@dataclass(frozen=True)
class Arrivals:
    """Enrolments of one agent in one status that reached the server today and in the period."""

    agent_id: str
    status: str
    today: int
    period: int


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


def _visits_per_day(
    session: Session, principal: Principal, branch_id: str | None, start: int, end: int, tz: str
) -> dict[dt.date, int]:
    """Visits per local day in ``[start, end)``: one grouped query answers the counts and the chart."""
    day = day_of(Visit.visited_at + offset_ms(tz)).label("day")
    rows = session.execute(
        select(day, func.count())
        .where(
            scope.visits(principal),
            *_branch(Visit.branch_id, branch_id),
            Visit.visited_at >= start,
            Visit.visited_at < end,
        )
        .group_by(day)
    ).all()
    return {EPOCH + dt.timedelta(days=int(number)): count for number, count in rows}


def _within(column, window: Window) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((and_(column >= window.start, column < window.end), 1), else_=0)), 0)


def _enrollments(
    session: Session, principal: Principal, branch_id: str | None, today: Window, period: Window
) -> list[Arrivals]:
    """Enrolments per agent and status that arrived today and this period: one grouped query."""
    arrived = Enrollment.server_created_at
    rows = session.execute(
        select(Enrollment.agent_id, Enrollment.status, _within(arrived, today), _within(arrived, period))
        .where(
            scope.enrollments(principal),
            *_branch(Enrollment.branch_id, branch_id),
            arrived >= min(today.start, period.start),
            arrived < max(today.end, period.end),
        )
        .group_by(Enrollment.agent_id, Enrollment.status)
    ).all()
    return [
        Arrivals(agent, status, int(today_count), int(period_count))
        for agent, status, today_count, period_count in rows
    ]


def _by_status(rows: list[Arrivals], pick: Callable[[Arrivals], int]) -> dict[str, int]:
    totals: dict[str, int] = {}
    for row in rows:
        if pick(row):
            totals[row.status] = totals.get(row.status, 0) + pick(row)
    return totals


def _per_agent(session: Session, rows: list[Arrivals]) -> list[AgentEnrollments]:
    """This period's enrolments of the busiest agents, by status."""
    per_agent: dict[str, dict[str, int]] = {}
    for row in rows:
        if row.period:
            per_agent.setdefault(row.agent_id, {})[row.status] = row.period
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
    """The dashboard of ``branch_id`` (``None``: everything in the caller's scope) at ``now``.

    ``today``, ``period`` and ``chart`` are whole local days in ``tz`` (``sync.workspace.windows``).
    """
    duplicates = [scope.duplicate_candidates(principal), DuplicateCandidate.status == "open"]
    if branch_id is not None:
        duplicates.append(
            or_(DuplicateCandidate.branch_id == branch_id, DuplicateCandidate.other_branch_id == branch_id)
        )
    windows = (today, period, chart)
    per_day = _visits_per_day(
        session, principal, branch_id, min(w.start for w in windows), max(w.end for w in windows), tz
    )
    enrollments = _enrollments(session, principal, branch_id, today, period)
    return Dashboard(
        today=WindowCounts(
            sum(per_day.get(d, 0) for d in today.days()), _by_status(enrollments, lambda row: row.today)
        ),
        period=WindowCounts(
            sum(per_day.get(d, 0) for d in period.days()), _by_status(enrollments, lambda row: row.period)
        ),
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
        visits_per_day=[(d, per_day.get(d, 0)) for d in chart.days()],
        enrollments_per_agent=_per_agent(session, enrollments),
    )
