"""Which branch a user belonged to at a given moment, from ``user_branch_history``.

The rule (one place): a user who has not moved since ``at`` (no history row after it, or no row at all)
is in their current branch, ``users.branch_id`` (a move sets it to its row's branch); otherwise the branch
of their latest history row with ``since <= at``, and before their first row, that first row's branch.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from sync.models import User
from sync.models.contest import UserBranchHistory
from sync.writes import chunked, in_ids


@dataclass
class BranchTimeline:
    """The branch history of some users, loaded once; ``branch_at`` answers without further queries."""

    current: dict[str, str | None] = field(default_factory=dict)  # users.branch_id
    moves: dict[str, list[tuple[int, int, str | None]]] = field(default_factory=dict)  # (since, row id, branch)

    def branch_at(self, user_id: str, at: int) -> str | None:
        rows = self.moves.get(user_id)
        position = bisect.bisect_right(rows, (at, float("inf"))) if rows else 0
        if not rows or position == len(rows):  # never moved, or not since ``at``: where the user is now
            return self.current.get(user_id)
        # The last row with since <= at (row ids break ties: the later write wins); before all rows, the first.
        return rows[max(position - 1, 0)][2]


HISTORY = (UserBranchHistory.user_id, UserBranchHistory.since, UserBranchHistory.id, UserBranchHistory.branch_id)
HISTORY_ORDER = (UserBranchHistory.user_id, UserBranchHistory.since, UserBranchHistory.id)


def load_timeline(session: Session, user_ids: Iterable[str]) -> BranchTimeline:
    """The current branch and the moves of these users (a few, by id)."""
    ids = sorted(set(user_ids))
    timeline = BranchTimeline()
    for part in chunked(ids):
        current = session.execute(select(User.id, User.branch_id).where(in_ids(session, User.id, part)))
        timeline.current.update(dict(current.all()))
        moves = session.execute(
            select(*HISTORY).where(in_ids(session, UserBranchHistory.user_id, part)).order_by(*HISTORY_ORDER)
        )
        for user_id, since, row_id, branch_id in moves:
            timeline.moves.setdefault(user_id, []).append((since, row_id, branch_id))
    return timeline


def possible_members(session: Session, branch_id: str) -> set[str]:
    """Agents who belong to the branch now or belonged to it at some time: a superset for ``branch_at``."""
    moved_through = select(UserBranchHistory.user_id).where(UserBranchHistory.branch_id == branch_id)
    return set(
        session.execute(
            select(User.id).where(User.role == "agent", or_(User.branch_id == branch_id, User.id.in_(moved_through)))
        ).scalars()
    )
