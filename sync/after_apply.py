"""The steps of a push that run once its rows are written, inside the same transaction and stamp.

Declared here, in order, in one place: each step reads the typed record of what the push wrote
(``ctx.applied``, a ``sync.context.Applied``) and may write more rows with the push's stamp.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from .context import PushContext
from .follow_ups.rules import schedule_from_visits
from .geo.neighbours import refresh_after_delete
from .visit_rollup import after_push as refresh_rollup

Step = Callable[[Session, PushContext], None]

STEPS: tuple[Step, ...] = (
    schedule_from_visits,  # visit outcomes → follow-ups; a new enrolment cancels obsolete revisits
    refresh_after_delete,  # deleted visits' neighbours get their sequence flags again
    refresh_rollup,  # last: the map's rollup reads the flags the steps before wrote
)


def run(session: Session, ctx: PushContext) -> None:
    for step in STEPS:
        step(session, ctx)
