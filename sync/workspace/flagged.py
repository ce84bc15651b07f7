"""The flag review queue: visits with a flag nobody has decided yet, and the agent's day around one.

``visits.flags`` is a comma list and every review decides one flag (``sync.visits.reviews``); a visit is
*unreviewed* while at least one of its current flags has no review at all. Counting reviews of flags the
visit still carries (a flag the engine dropped later may have old reviews) against the number of flags
says that in one correlated subquery, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, distinct, func, literal, not_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from sync.accounts import scope
from sync.accounts.principal import Principal
from sync.calendar import workdays
from sync.models import Visit
from sync.models.visit_reviews import VisitFlagReview
from sync.pagination import Page, paginate
from sync.visits.listing import has_flag
from sync.workspace.windows import days as day_window
from sync.workspace.windows import local_day

STATES = ("unreviewed", "reviewed", "all")
MAX_DAY_VISITS = 500  # an agent's day on the mini-map; more than any real day holds


@dataclass(frozen=True)
class FlaggedFilters:
    state: str = "unreviewed"
    flag: str | None = None
    agent_id: str | None = None
    branch_id: str | None = None
    date_from: int | None = None
    date_to: int | None = None


def _flag_count() -> ColumnElement[int]:
    return func.length(Visit.flags) - func.length(func.replace(Visit.flags, ",", "")) + 1


def _carried() -> ColumnElement[bool]:
    """The review is of a flag the visit still carries."""
    return (literal(",") + Visit.flags + literal(",")).like(literal("%,") + VisitFlagReview.flag + literal(",%"))


def _reviewed_flag_count() -> ColumnElement[int]:
    return (
        select(func.count(distinct(VisitFlagReview.flag)))
        .where(VisitFlagReview.visit_id == Visit.id, _carried())
        .scalar_subquery()
    )


def flagged() -> ColumnElement[bool]:
    return and_(Visit.flags.is_not(None), Visit.flags != "")


def unreviewed() -> ColumnElement[bool]:
    """The visit carries a flag that has no review yet."""
    return and_(flagged(), _reviewed_flag_count() < _flag_count())


def _conditions(principal: Principal, filters: FlaggedFilters) -> list[ColumnElement[bool]]:
    conditions = [scope.visits(principal), flagged(), Visit.visited_at.is_not(None)]
    if filters.state == "unreviewed":
        conditions.append(unreviewed())
    elif filters.state == "reviewed":
        conditions.append(not_(unreviewed()))
    for column, value in (
        (Visit.agent_id, filters.agent_id),
        (Visit.branch_id, filters.branch_id),
    ):
        if value is not None:
            conditions.append(column == value)
    if filters.flag is not None:
        conditions.append(has_flag(filters.flag))
    if filters.date_from is not None:
        conditions.append(Visit.visited_at >= filters.date_from)
    if filters.date_to is not None:
        conditions.append(Visit.visited_at < filters.date_to)
    return conditions


def list_flagged(
    session: Session, *, principal: Principal, filters: FlaggedFilters, limit: int, cursor: str | None
) -> Page:
    """Flagged visits in scope, newest first (a visit without a time cannot be placed, so it is left out)."""
    query = select(Visit).where(*_conditions(principal, filters))
    return paginate(session, query, sort_column=Visit.visited_at, id_column=Visit.id, limit=limit, cursor=cursor)


def reviews_of(session: Session, visit_ids: list[str]) -> dict[str, list[VisitFlagReview]]:
    """Every review of these visits, oldest first per visit (one query for a page of the queue)."""
    found: dict[str, list[VisitFlagReview]] = {}
    if not visit_ids:
        return found
    rows = session.execute(
        select(VisitFlagReview)
        .where(VisitFlagReview.visit_id.in_(visit_ids))
        .order_by(VisitFlagReview.reviewed_at, VisitFlagReview.id)
    ).scalars()
    for review in rows:
        found.setdefault(review.visit_id, []).append(review)
    return found


def count_unreviewed(session: Session, *, principal: Principal, branch_id: str | None) -> int:
    """How many visits in scope carry a flag without a review: the flagged visits (an index count) minus
    those whose every current flag has a review (found from the reviews, which are far fewer), rather
    than a subquery per flagged visit as the paged list does."""
    conditions = [scope.visits(principal), flagged()]
    if branch_id is not None:
        conditions.append(Visit.branch_id == branch_id)
    flagged_count = select(func.count()).select_from(Visit).where(*conditions).scalar_subquery()
    fully_reviewed = (
        select(VisitFlagReview.visit_id)
        .join(Visit, and_(Visit.id == VisitFlagReview.visit_id, _carried()))
        .where(*conditions)
        .group_by(VisitFlagReview.visit_id, Visit.flags)
        .having(func.count(distinct(VisitFlagReview.flag)) >= _flag_count())
    )
    reviewed_count = select(func.count()).select_from(fully_reviewed.subquery()).scalar_subquery()
    return session.execute(select(flagged_count - reviewed_count)).scalar_one()


def same_day(session: Session, *, principal: Principal, visit: Visit) -> list[Visit]:
    """The agent's visits (in the caller's scope) on the visit's local day, in time order, the visit included."""
    if visit.visited_at is None:
        return [visit]
    tz = visit.timezone if visit.timezone in workdays.ZONES else workdays.DEFAULT_ZONE
    day = local_day(visit.visited_at, tz)
    window = day_window(day, day, tz)
    return list(
        session.execute(
            select(Visit)
            .where(
                scope.visits(principal),
                Visit.agent_id == visit.agent_id,
                Visit.visited_at >= window.start,
                Visit.visited_at < window.end,
            )
            .order_by(Visit.visited_at, Visit.id)
            .limit(MAX_DAY_VISITS)
        ).scalars()
    )
