"""What unpaid months set in motion (docs/domain.md "Contributions and payments").

``assess_all`` (hourly, on one instance) plans D-5 and D-1 reminders at 09:00 local for an unpaid current
month, opens an escalation follow-up for the agent at 2 unpaid months, and sets ``membership_status = lapsed``
at 3, stamped so phones see it. A payment after lapsing makes the member ``active`` again.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import cast

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from sync.calendar import workdays
from sync.follow_ups.rules import follow_up_id
from sync.models import Enrollment, FollowUp, Worker
from sync.models.outreach import Payment
from sync.payments.contributions import first_month, monthly_contribution, unpaid_streak
from sync.protocol.clock import next_stamp
from sync.reminders.outbox import enqueue_many, reminder_row
from sync.reminders.recipients import worker_zones
from sync.reminders.templates import payment_text
from sync.writes import chunked

REMINDER_DAYS = (5, 1)  # D-5 and D-1 before the deadline
SEND_AT = dt.time(9, 0)
ESCALATE_AT, LAPSE_AT = 2, 3  # unpaid months


@dataclass
class Assessment:
    reminders: int = 0
    escalations: int = 0
    lapsed: int = 0
    reactivated: int = 0


def assess_all(session: Session, *, now: int) -> Assessment:
    """The hourly job: every member with an enrolment date."""
    members = select(Worker.id).where(Worker.enrolled_at.is_not(None), Worker.deleted_at.is_(None))
    ids = list(session.execute(members).scalars())
    total = Assessment()
    for part in chunked(ids, 500):
        result = assess(session, worker_ids=list(part), now=now)
        for name in ("reminders", "escalations", "lapsed", "reactivated"):
            setattr(total, name, getattr(total, name) + getattr(result, name))
    return total


def assess(session: Session, *, worker_ids: list[str], now: int) -> Assessment:
    """Reminders, escalations and status changes for these workers, as of ``now``."""
    result = Assessment()
    if not worker_ids:
        return result
    live = session.execute(select(Worker).where(Worker.id.in_(worker_ids), Worker.deleted_at.is_(None))).scalars()
    workers = [w for w in live if w.enrolled_at is not None]
    zones = worker_zones(session, [w.id for w in workers])
    paid: dict[str, set[str]] = {}
    for wid, month in session.execute(
        select(Payment.worker_id, Payment.contribution_month).where(Payment.worker_id.in_(worker_ids))
    ):
        paid.setdefault(wid, set()).add(month)
    enrolments: dict[str, Enrollment] = {}
    for verified in session.execute(
        select(Enrollment)
        .where(Enrollment.worker_id.in_(worker_ids), Enrollment.status == "verified", Enrollment.deleted_at.is_(None))
        .order_by(Enrollment.server_created_at)
    ).scalars():
        enrolments.setdefault(cast(str, verified.worker_id), verified)  # worker_id IN worker_ids: never NULL
    reminders, escalations, status_changes = [], [], {}
    for worker in workers:
        tz = zones[worker.id]
        today = workdays.to_local(now, tz).date()
        first = first_month(cast(int, worker.enrolled_at), tz)  # workers without it were left out above
        months_paid = paid.get(worker.id, set())
        streak, latest = unpaid_streak(first, today, months_paid)
        if streak >= LAPSE_AT and worker.membership_status != "lapsed":
            status_changes[worker.id] = "lapsed"
        elif streak == 0 and months_paid and worker.membership_status != "active":
            status_changes[worker.id] = "active"
        enrolment = enrolments.get(worker.id)
        if streak >= ESCALATE_AT and worker.enrolled_by_agent_id:
            escalations.append(_escalation(worker, latest, tz, now, enrolment))
        if status_changes.get(worker.id, worker.membership_status) == "lapsed":
            continue  # the agent's escalation takes over from text reminders
        reminders.extend(_payment_reminders(worker, tz, today, now, months_paid, streak, enrolment))
    enqueue_many(session, reminders)
    result.reminders = len(reminders)
    result.escalations = _open_escalations(session, escalations)
    if status_changes:
        stamp = next_stamp(session)
        for status in ("lapsed", "active"):
            ids = [w for w, s in status_changes.items() if s == status]
            for part in chunked(ids):
                session.execute(
                    update(Worker).where(Worker.id.in_(part)).values(membership_status=status, last_modified=stamp)
                )
        result.lapsed = sum(1 for s in status_changes.values() if s == "lapsed")
        result.reactivated = sum(1 for s in status_changes.values() if s == "active")
    return result


def _payment_reminders(worker, tz, today, now, months_paid, streak, enrolment) -> list[dict]:
    """D-5 and D-1 for this month (or next month once this one's deadline has passed), if unpaid."""
    if not worker.phone_index:
        return []
    month = workdays.month_of(today)
    if today > workdays.payment_deadline(month):
        month = workdays.add_months(month, 1)
    if month in months_paid or month < first_month(worker.enrolled_at, tz):
        return []
    deadline = workdays.payment_deadline(month)
    per_month = monthly_contribution(
        enrolment.monthly_income if enrolment else None, enrolment.programs if enrolment else None
    )
    rows = []
    for days in REMINDER_DAYS:
        day = deadline - dt.timedelta(days=days)
        if not workdays.is_working_day(day):
            day = workdays.previous_working_day(day)
        due = workdays.local_ms(day, SEND_AT, tz)
        if due < now - 12 * 3_600_000:
            continue  # planned too late for this one (enrolled just before the deadline)
        rows.append(
            reminder_row(
                kind="payment_due",
                recipient_type="worker",
                recipient_id=worker.id,
                text=payment_text(
                    name=worker.full_name,
                    month=month,
                    amount=per_month * (streak + 1),
                    deadline=deadline,
                    unpaid_months=streak + 1,
                ),
                due_at=due,
                timezone=tz,
                branch_id=enrolment.branch_id if enrolment else None,
                subject_month=month,
                dedupe_key=f"pay:{worker.id}:{month}:D{days}",
                now=now,
            )
        )
    return rows


def _escalation(worker, latest: str | None, tz: str, now: int, enrolment) -> dict:
    return {
        "id": follow_up_id(f"{worker.id}:{latest}", "escalation"),
        "enrollment_id": enrolment.id if enrolment else None,
        "worker_id": worker.id,
        "visit_id": None,
        "kind": "payment_reminder",
        "due_at": workdays.within_working_hours(now, tz),
        "status": "scheduled",
        "outcome_notes": f"Iuran belum dibayar 2 bulan (s.d. {latest}) / 2 months unpaid",
        "completed_at": None,
        "assigned_agent_id": worker.enrolled_by_agent_id,
        "branch_id": enrolment.branch_id if enrolment else None,
        "created_by_device": None,
        "deleted_at": None,
    }


def _open_escalations(session: Session, rows: list[dict]) -> int:
    """One escalation per worker and unpaid month (deterministic ids: replays add nothing)."""
    if not rows:
        return 0
    existing = set(session.execute(select(FollowUp.id).where(FollowUp.id.in_([r["id"] for r in rows]))).scalars())
    new = [r for r in rows if r["id"] not in existing]
    if new:
        stamp = next_stamp(session)
        stamped = [r | {"server_created_at": stamp, "last_modified": stamp} for r in new]
        session.execute(FollowUp.__table__.insert(), stamped)
    return len(new)
