"""Periodic housekeeping that must run on one instance at a time, leased like reminders are.

Each job has a row in ``scheduler_jobs``; an instance runs it only after winning the conditional UPDATE
that moves its lease, so three instances ticking every 30 s still plan payments once an hour.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

from sqlalchemy import CursorResult, text
from sqlalchemy.orm import Session

from sync.models.outreach import SchedulerJob
from sync.reminders.outbox import insert_ignoring_conflicts

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    name: str
    every_ms: int
    run: Callable[[Session, int], object]  # (session, now) in the job's own transaction


def _take(session: Session, name: str, *, me: str, now: int, lease_ms: int) -> bool:
    insert_ignoring_conflicts(session, SchedulerJob, [{"name": name, "next_run_at": 0}])
    claimed = cast(  # an UPDATE's result is a CursorResult
        CursorResult,
        session.execute(
            text(
                "UPDATE scheduler_jobs SET claimed_by = :me, lease_until = :lease "
                "WHERE name = :name AND next_run_at <= :now AND (lease_until IS NULL OR lease_until < :now)"
            ),
            {"me": me, "lease": now + lease_ms, "name": name, "now": now},
        ),
    )
    return claimed.rowcount == 1


def run_due_jobs(
    factory: Callable[[], Session], jobs: list[Job], *, me: str, now: int, lease_ms: int = 600_000
) -> list[str]:
    """Run every job whose time has come and that no other instance holds; returns the names run."""
    ran = []
    for job in jobs:
        with factory() as session, session.begin():
            if not _take(session, job.name, me=me, now=now, lease_ms=lease_ms):
                continue
        try:
            with factory() as session, session.begin():
                job.run(session, now)
            ran.append(job.name)
        except Exception:
            log.exception("scheduler job %s failed; next try in %d s", job.name, job.every_ms // 1000)
        with factory() as session, session.begin():
            session.execute(
                text(
                    "UPDATE scheduler_jobs SET next_run_at = :next, last_run_at = :now, lease_until = NULL, "
                    "claimed_by = NULL WHERE name = :name AND claimed_by = :me"
                ),
                {"next": now + job.every_ms, "now": now, "name": job.name, "me": me},
            )
    return ran
