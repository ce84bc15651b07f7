"""The sync clock: one source of unique, increasing change stamps (docs/sync.md "The clock").

Every writing transaction bumps the one-row ``sync_clock`` first. The row lock serialises writers until
commit, so a pull that reads the clock and its data in one snapshot can never miss a change.
"""

from __future__ import annotations

import time

from sqlalchemy import text
from sqlalchemy.orm import Session


def now_ms() -> int:
    """Wall-clock time in epoch milliseconds (the only place the engine reads the clock)."""
    return time.time_ns() // 1_000_000


def next_stamp(session: Session) -> int:
    """Take the next change stamp and hold the clock's row lock until the transaction ends."""
    greatest = "max" if session.get_bind().dialect.name == "sqlite" else "GREATEST"
    return session.execute(
        text(f"UPDATE sync_clock SET value = {greatest}(value + 1, :now) WHERE id = 1 RETURNING value"),
        {"now": now_ms()},
    ).scalar_one()


def current_stamp(session: Session) -> int:
    """The last stamp handed out, read inside the caller's snapshot (what a pull returns)."""
    return session.execute(text("SELECT value FROM sync_clock WHERE id = 1")).scalar_one()
