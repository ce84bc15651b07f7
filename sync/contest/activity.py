"""Who was active when: each agent's first live visit within each period, kept in ``contest_activity``.

The leaderboard's ``active_agents`` asks, per period, which agents have a live visit in
[``starts_at``, min(``ends_at``, ``as_of``)). That holds exactly when the agent's first live visit at or
after ``starts_at`` and before ``ends_at`` comes before ``as_of``, so one row per (period, agent) answers
for every ``as_of``. The push keeps the rows of the periods its visits fall in (old and new times, deletions
included); writing a period fills its rows from the period's visits.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from sync.models import Visit
from sync.models.contest import ContestActivity, ContestPeriod
from sync.protocol.context import PushContext
from sync.writes import chunked, in_ids


def _live_in(start: int, end: int):
    return (Visit.deleted_at.is_(None), Visit.visited_at >= start, Visit.visited_at < end)


def fill_period(session: Session, period: ContestPeriod) -> None:
    """All of a period's rows from its visits (a new period, or one whose days changed)."""
    session.execute(delete(ContestActivity.__table__).where(ContestActivity.period_id == period.id))
    firsts = (
        select(Visit.agent_id, func.min(Visit.visited_at))
        .where(*_live_in(period.starts_at, period.ends_at))
        .group_by(Visit.agent_id)
    )
    rows = [{"period_id": period.id, "agent_id": a, "first_visit_at": t} for a, t in session.execute(firsts)]
    for batch in chunked(rows, 5_000):
        session.execute(insert(ContestActivity.__table__), list(batch))


def refresh_agents(session: Session, times: Iterable[tuple[str, int]]) -> None:
    """The rows of the periods these (agent, visited_at) fall in, for those agents, from their visits."""
    periods = session.execute(select(ContestPeriod.id, ContestPeriod.starts_at, ContestPeriod.ends_at)).all()
    touched = {
        (period_id, agent, start, end) for agent, at in times for period_id, start, end in periods if start <= at < end
    }
    for period_id, agent, start, end in sorted(touched):
        first = session.execute(
            select(func.min(Visit.visited_at)).where(Visit.agent_id == agent, *_live_in(start, end))
        ).scalar_one()
        key = (ContestActivity.period_id == period_id, ContestActivity.agent_id == agent)
        session.execute(delete(ContestActivity.__table__).where(*key))
        if first is not None:
            session.execute(
                insert(ContestActivity.__table__),
                [{"period_id": period_id, "agent_id": agent, "first_visit_at": first}],
            )


def after_push(session: Session, ctx: PushContext) -> None:
    """The periods of every visit this push wrote or deleted, at its new time and at its time before."""
    times = {(row["agent_id"], row["visited_at"]) for row in ctx.applied.visits if row.get("visited_at") is not None}
    times.update((agent, at) for agent, at in ctx.applied.visit_times_before if at is not None)
    for part in chunked(ctx.applied.deleted_ids("visits")):
        gone = session.execute(
            select(Visit.agent_id, Visit.visited_at).where(
                in_ids(session, Visit.id, part), Visit.visited_at.is_not(None)
            )
        )
        times.update((agent, at) for agent, at in gone)
    if times:
        refresh_agents(session, times)
