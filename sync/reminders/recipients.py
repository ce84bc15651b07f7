"""Who a reminder may go to, and in which time zone they live."""

from __future__ import annotations

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from ..errors import NotFound
from ..follow_ups import workdays
from ..models import Branch, Enrollment, User, Visit, Worker
from ..principal import Principal
from ..writes import chunked


def worker_zones(session: Session, worker_ids: list[str]) -> dict[str, str]:
    """Each worker's zone: their latest visit's, else their enrolling branch's, else Asia/Jakarta."""
    zones: dict[str, str] = {}
    for part in chunked(sorted(set(worker_ids))):
        rows = session.execute(
            select(Visit.worker_id, Visit.timezone)
            .where(Visit.worker_id.in_(part), Visit.timezone.is_not(None), Visit.deleted_at.is_(None))
            .order_by(Visit.visited_at)
        )
        zones.update({wid: tz for wid, tz in rows if tz in workdays.ZONES})  # the latest visit wins
        missing = [w for w in part if w not in zones]
        if missing:
            rows = session.execute(
                select(Enrollment.worker_id, Visit.timezone, Branch.latitude, Branch.longitude)
                .outerjoin(Visit, Visit.id == Enrollment.visit_id)
                .outerjoin(Branch, Branch.id == Enrollment.branch_id)
                .where(Enrollment.worker_id.in_(missing), Enrollment.deleted_at.is_(None))
            )
            for wid, tz, lat, lon in rows:
                if wid not in zones or tz in workdays.ZONES:
                    zones[wid] = tz if tz in workdays.ZONES else workdays.zone_for_point(lat, lon)
    return {wid: zones.get(wid, workdays.DEFAULT_ZONE) for wid in worker_ids}


def worker_branch(session: Session, worker_id: str) -> str | None:
    """The branch of the worker's first enrolment (the reminder's owner for supervisors' lists)."""
    return session.execute(
        select(Enrollment.branch_id)
        .where(Enrollment.worker_id == worker_id, Enrollment.deleted_at.is_(None))
        .order_by(Enrollment.server_created_at)
        .limit(1)
    ).scalar_one_or_none()


def scoped_worker(session: Session, principal: Principal, worker_id: str) -> Worker:
    """A worker the caller reaches: a supervisor those enrolled through their branch, an admin any."""
    worker = session.get(Worker, worker_id)
    if worker is None or worker.deleted_at is not None:
        raise NotFound(f"no worker {worker_id}")
    if principal.role == "supervisor":
        linked = session.execute(
            select(
                exists().where(
                    Enrollment.worker_id == worker_id,
                    Enrollment.branch_id == principal.branch_id,
                    Enrollment.deleted_at.is_(None),
                )
            )
        ).scalar()
        if not linked:
            raise NotFound(f"no worker {worker_id}")
    return worker


def scoped_agent(session: Session, principal: Principal, agent_id: str) -> User:
    agent = session.get(User, agent_id)
    if agent is None or agent.role != "agent":
        raise NotFound(f"no agent {agent_id}")
    if principal.role == "supervisor" and agent.branch_id != principal.branch_id:
        raise NotFound(f"no agent {agent_id}")
    return agent


def agent_zone(session: Session, agent: User) -> str:
    branch = session.get(Branch, agent.branch_id) if agent.branch_id else None
    return workdays.zone_for_point(branch.latitude, branch.longitude) if branch else workdays.DEFAULT_ZONE
