"""Follow-ups by due time, as a supervisor works through them: overdue first, then what comes next.

*Overdue*: still open (scheduled or missed) and due before now, oldest first. *Upcoming*: scheduled and
due from now on, soonest first. Both page by keyset on (``due_at``, ``id``); a follow-up without a due
time is in neither list.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from sync.accounts import scope
from sync.accounts.principal import Principal
from sync.follow_ups.manage import OPEN_STATUSES
from sync.models import FollowUp
from sync.pagination import Page, paginate

VIEWS = ("overdue", "upcoming")


@dataclass(frozen=True)
class DueFilters:
    view: str = "overdue"
    agent_id: str | None = None
    branch_id: str | None = None


def list_due(
    session: Session, *, principal: Principal, filters: DueFilters, now: int, limit: int, cursor: str | None
) -> Page:
    query = select(FollowUp).where(scope.follow_ups(principal), FollowUp.due_at.is_not(None))
    if filters.view == "overdue":
        query = query.where(FollowUp.status.in_(OPEN_STATUSES), FollowUp.due_at < now)
    else:
        query = query.where(FollowUp.status == "scheduled", FollowUp.due_at >= now)
    if filters.agent_id is not None:
        query = query.where(FollowUp.assigned_agent_id == filters.agent_id)
    if filters.branch_id is not None:
        query = query.where(FollowUp.branch_id == filters.branch_id)
    return paginate(
        session, query, sort_column=FollowUp.due_at, id_column=FollowUp.id, limit=limit, cursor=cursor, descending=False
    )
