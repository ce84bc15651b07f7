"""Moving a user to another branch, with the history the contest needs (credit stays where it was earned)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from sync.contest.credit import refresh_agent_from
from sync.errors import NotFound
from sync.models import User
from sync.models.contest import UserBranchHistory
from sync.protocol.clock import next_stamp


def record_branch_move(session: Session, user_id: str, branch_id: str | None, at: int | None = None) -> int | None:
    """Move the user to ``branch_id`` from ``at`` on (default: a sync-clock stamp) and return that moment.

    Call it instead of assigning ``User.branch_id``: it sets the column, writes ``user_branch_history``
    (the branch held until now first, when the user has no history yet) and re-credits whatever the
    user's enrolments earned from ``at`` on. Taking a clock stamp orders the move against pushes, whose
    ``valid_since`` are stamps of the same clock: a credit given before the move stays with the old
    branch, one given after goes to the new one. Returns None when the user is already there.
    """
    stamp = next_stamp(session)  # first, like every writer: serialises the move with pushes re-crediting
    user = session.execute(select(User).where(User.id == user_id).with_for_update(of=User)).scalar_one_or_none()
    if user is None:
        raise NotFound("no such user", errors={"user_id": ["not found"]})
    if user.branch_id == branch_id:
        return None
    moment = stamp if at is None else at
    known = session.execute(select(UserBranchHistory.id).where(UserBranchHistory.user_id == user_id).limit(1)).first()
    if known is None:
        since = min(user.created_at, moment)  # a move dated before the account existed still follows it
        session.add(UserBranchHistory(user_id=user_id, branch_id=user.branch_id, since=since))
    session.add(UserBranchHistory(user_id=user_id, branch_id=branch_id, since=moment))
    user.branch_id = branch_id
    session.flush()
    refresh_agent_from(session, user_id, moment)
    return moment
