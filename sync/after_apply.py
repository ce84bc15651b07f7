"""Steps that run once a push's rows are written, inside the same transaction and with its stamp.

Each step is ``step(session, ctx, applied)`` where ``applied`` maps a table name to the row dicts the
push wrote for it (deleted ids under ``"<table>:deleted"``). Capabilities append their step to STEPS.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from .context import PushContext

Step = Callable[[Session, PushContext, dict[str, list]], None]
STEPS: list[Step] = []


def run(session: Session, ctx: PushContext, applied: dict[str, list]) -> None:
    for step in STEPS:
        step(session, ctx, applied)


def _follow_ups(session: Session, ctx: PushContext, applied: dict[str, list]) -> None:
    """Visit outcomes → follow-ups; enrolments cancel pending revisits (sync.follow_ups.rules)."""
    from .follow_ups.rules import schedule_from_visits

    schedule_from_visits(session, ctx, applied)


STEPS.append(_follow_ups)
