"""Where a reminder's recipients live: their time zone and branch (who may be messaged: ``sync.accounts.scope``)."""

from __future__ import annotations

from typing import cast

from sqlalchemy import select
from sqlalchemy.orm import Session

from sync.calendar import workdays
from sync.models import Branch, Enrollment, User, Visit
from sync.writes import chunked


def worker_zones(session: Session, worker_ids: list[str]) -> dict[str, str]:
    """Each worker's zone: their latest visit's, else their enrolling branch's, else Asia/Jakarta."""
    zones: dict[str, str] = {}
    for part in chunked(sorted(set(worker_ids))):
        rows = session.execute(
            select(Visit.worker_id, Visit.timezone)
            .where(Visit.worker_id.in_(part), Visit.timezone.is_not(None), Visit.deleted_at.is_(None))
            .order_by(Visit.visited_at)
        )
        # the latest visit wins; worker_id IN part, so never NULL
        zones.update({cast(str, wid): tz for wid, tz in rows if tz in workdays.ZONES})
        missing = [w for w in part if w not in zones]
        if missing:
            fallbacks = session.execute(
                select(Enrollment.worker_id, Visit.timezone, Branch.latitude, Branch.longitude)
                .outerjoin(Visit, Visit.id == Enrollment.visit_id)
                .outerjoin(Branch, Branch.id == Enrollment.branch_id)
                .where(Enrollment.worker_id.in_(missing), Enrollment.deleted_at.is_(None))
            )
            for wid, tz, lat, lon in fallbacks:
                if wid not in zones or tz in workdays.ZONES:
                    zones[cast(str, wid)] = tz if tz in workdays.ZONES else workdays.zone_for_point(lat, lon)
    return {wid: zones.get(wid, workdays.DEFAULT_ZONE) for wid in worker_ids}


def worker_branch(session: Session, worker_id: str) -> str | None:
    """The branch of the worker's first enrolment (the reminder's owner for supervisors' lists)."""
    return session.execute(
        select(Enrollment.branch_id)
        .where(Enrollment.worker_id == worker_id, Enrollment.deleted_at.is_(None))
        .order_by(Enrollment.server_created_at)
        .limit(1)
    ).scalar_one_or_none()


def agent_zone(session: Session, agent: User) -> str:
    branch = session.get(Branch, agent.branch_id) if agent.branch_id else None
    return workdays.zone_for_point(branch.latitude, branch.longitude) if branch else workdays.DEFAULT_ZONE
