"""The push pipeline, declared in order in one place (docs/architecture.md "The push pipeline").

1. ``HANDLERS``: one per writable table, in this order, because follow-ups may reference enrolments and
   visits written by the same push. Each turns sanitised records into rows and per-record results and
   records what it wrote in ``ctx.applied`` (a typed ``sync.protocol.context.Applied``).
2. ``STEPS``: run once every table is written, inside the same transaction and with the push's stamp;
   each reads ``ctx.applied`` and may write more rows.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from sync.contest.upkeep import after_push as refresh_contest
from sync.enrollments.apply import apply_enrollments
from sync.enrollments.linking import relink_after_delete
from sync.follow_ups.apply import apply_follow_ups
from sync.follow_ups.rules import schedule_from_visits
from sync.protocol.changes import PushedRecord
from sync.protocol.context import PushContext
from sync.visits.apply import apply_visits
from sync.visits.neighbours import refresh_after_delete
from sync.visits.rollup import after_push as refresh_rollup

Handler = Callable[[Session, PushContext, list[PushedRecord], dict[str, dict]], dict[str, dict]]
Step = Callable[[Session, PushContext], None]

HANDLERS: tuple[tuple[str, Handler], ...] = (
    ("enrollments", apply_enrollments),
    ("visits", apply_visits),
    ("follow_ups", apply_follow_ups),
)

STEPS: tuple[Step, ...] = (
    relink_after_delete,  # a deleted first enrolment hands its person's credit to the next one
    schedule_from_visits,  # visit outcomes → follow-ups; a new enrolment cancels obsolete revisits
    refresh_after_delete,  # deleted visits' neighbours get their sequence flags again
    refresh_contest,  # contest credits of the people touched, active agents of the periods the visits fall in
    refresh_rollup,  # last: the map's rollup reads the flags the steps before wrote
)


def run_steps(session: Session, ctx: PushContext) -> None:
    for step in STEPS:
        step(session, ctx)
