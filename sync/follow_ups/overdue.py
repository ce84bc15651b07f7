"""Follow-ups past their due time plus a grace period become ``missed`` (stamped, so phones see it)."""

from __future__ import annotations

from typing import cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session

from sync.models import FollowUp
from sync.protocol.clock import next_stamp


def mark_missed(session: Session, *, now: int, grace_ms: int) -> int:
    """Mark scheduled follow-ups due before ``now - grace_ms`` as missed; returns how many."""
    cutoff = now - grace_ms
    due = select(FollowUp.id).where(
        FollowUp.status == "scheduled", FollowUp.due_at < cutoff, FollowUp.deleted_at.is_(None)
    )
    if session.execute(due.limit(1)).first() is None:
        return 0  # nothing to do: don't take the clock's lock
    stamp = next_stamp(session)
    result = session.execute(
        update(FollowUp)
        .where(FollowUp.status == "scheduled", FollowUp.due_at < cutoff, FollowUp.deleted_at.is_(None))
        .values(status="missed", last_modified=stamp)
    )
    return cast(CursorResult, result).rowcount  # an UPDATE's result is a CursorResult
