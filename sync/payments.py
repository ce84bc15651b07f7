"""BPJS payment files and what unpaid months set in motion (DOMAIN.md "The programme").

``import_csv`` keeps every good line and reports each bad one by its line number. ``assess_all`` (hourly,
on one instance) plans D-5 and D-1 reminders at 09:00 local for an unpaid current month, opens an
escalation follow-up for the agent at 2 unpaid months, and sets ``membership_status = lapsed`` at 3,
stamped so phones see it. A payment after lapsing makes the member ``active`` again.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
from dataclasses import dataclass, field

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from .clock import next_stamp
from .follow_ups import workdays
from .follow_ups.rules import follow_up_id
from .models import Enrollment, FollowUp, Worker
from .models.outreach import Payment, Reminder
from .pii import PiiProtector
from .reminders.outbox import enqueue_many, insert_ignoring_conflicts, reminder_row
from .reminders.recipients import worker_zones
from .reminders.templates import payment_text
from .writes import chunked

REMINDER_DAYS = (5, 1)  # D-5 and D-1 before the deadline
SEND_AT = dt.time(9, 0)
ESCALATE_AT, LAPSE_AT = 2, 3  # unpaid months
JKM, JKK_RATE, JKK_MIN, JHT_RATE = 6_800, 0.01, 10_000, 0.02
COLUMNS = {
    "nik": ("nik",),
    "month": ("contribution_month", "month", "bulan", "bulan_iuran", "periode"),
    "amount": ("amount", "jumlah", "nominal", "iuran"),
    "paid_at": ("paid_at", "tanggal_bayar", "tgl_bayar", "paid_date"),
}
PAYMENT_ZONE = "Asia/Jakarta"  # BPJS reports payment dates without a zone


@dataclass
class ImportReport:
    lines: int = 0
    imported: int = 0
    errors: list[dict] = field(default_factory=list)  # {"line": n, "errors": {column: [messages]}}
    workers_reactivated: int = 0


def _month(value: str) -> str:
    text = value.strip()
    for fmt in ("%Y-%m", "%Y%m", "%m/%Y", "%Y-%m-%d"):
        try:
            return dt.datetime.strptime(text, fmt).strftime("%Y-%m")
        except ValueError:
            continue
    raise ValueError("bulan iuran harus YYYY-MM / contribution month must be YYYY-MM")


def _amount(value: str) -> int:
    text = value.strip().replace("Rp", "").replace(" ", "")
    if text.endswith((".00", ",00")):
        text = text[:-3]
    text = text.replace(".", "").replace(",", "")
    if not text.isdigit() or int(text) <= 0:
        raise ValueError("jumlah harus bilangan bulat rupiah > 0 / amount must be a positive whole rupiah")
    return int(text)


def _paid_at(value: str) -> int:
    text = value.strip()
    if text.isdigit() and len(text) >= 12:
        return int(text)  # epoch milliseconds
    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError("paid_at harus tanggal ISO 8601 / paid_at must be an ISO 8601 date") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=workdays.zone(PAYMENT_ZONE))
    return workdays.to_ms(moment)


def _header_map(header: list[str]) -> dict[str, int]:
    names = [h.strip().lower().lstrip("\ufeff") for h in header]
    found = {}
    for key, aliases in COLUMNS.items():
        for alias in aliases:
            if alias in names:
                found[key] = names.index(alias)
                break
    return found


def import_csv(
    session: Session, *, text: str, pii: PiiProtector, now: int, imported_by: str | None = None
) -> ImportReport:
    """Store the good lines of a BPJS payment CSV (NIK, contribution month, amount, paid_at)."""
    report = ImportReport()
    rows = list(csv.reader(io.StringIO(text)))
    if not rows:
        report.errors.append({"line": 1, "errors": {"file": ["berkas kosong / empty file"]}})
        return report
    columns = _header_map(rows[0])
    missing = [k for k in COLUMNS if k not in columns]
    if missing:
        report.errors.append(
            {"line": 1, "errors": {"header": [f"kolom hilang / missing columns: {', '.join(missing)}"]}}
        )
        return report
    parsed: list[tuple[int, str, dict]] = []
    for number, raw in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in raw):
            continue
        report.lines += 1
        errors: dict[str, list[str]] = {}
        values: dict = {}
        cells = {k: raw[i] if i < len(raw) else "" for k, i in columns.items()}
        nik = "".join(ch for ch in cells["nik"] if ch.isdigit())
        if len(nik) != 16:
            errors["nik"] = ["NIK harus 16 digit / NIK must be 16 digits"]
        for key, parse in (("month", _month), ("amount", _amount), ("paid_at", _paid_at)):
            try:
                values[key] = parse(cells[key])
            except ValueError as exc:
                errors[key] = [str(exc)]
        if errors:
            report.errors.append({"line": number, "errors": errors})
        else:
            parsed.append((number, pii.blind_index("nik", nik), values))
    workers: dict[str, str] = {}
    for part in chunked(sorted({index for _, index, _ in parsed})):
        workers.update(
            session.execute(
                select(Worker.nik_index, Worker.id).where(Worker.nik_index.in_(part), Worker.deleted_at.is_(None))
            ).all()
        )
    good: dict[tuple[str, str], dict] = {}
    for number, index, values in parsed:
        worker_id = workers.get(index)
        if worker_id is None:
            report.errors.append({"line": number, "errors": {"nik": ["NIK tidak terdaftar / no member with this NIK"]}})
            continue
        good[(worker_id, values["month"])] = {
            "id": "pay" + hashlib.sha256(f"{worker_id}:{values['month']}".encode()).hexdigest()[:29],
            "worker_id": worker_id,
            "contribution_month": values["month"],
            "amount": values["amount"],
            "paid_at": values["paid_at"],
            "imported_at": now,
            "imported_by": imported_by,
        }
    _upsert_payments(session, list(good.values()))
    report.imported = len(good)
    paid_workers = sorted({w for w, _ in good})
    by_month: dict[str, list[str]] = {}
    for worker_id, month in good:
        by_month.setdefault(month, []).append(worker_id)
    for month, month_workers in by_month.items():
        for part in chunked(sorted(month_workers)):
            session.execute(
                update(Reminder)
                .where(
                    Reminder.kind == "payment_due",
                    Reminder.subject_month == month,
                    Reminder.worker_id.in_(part),
                    Reminder.status.in_(("pending", "failed")),
                    (Reminder.lease_until.is_(None)) | (Reminder.lease_until < now),
                )
                .values(status="cancelled", last_error="sudah dibayar / already paid", updated_at=now)
            )
    report.workers_reactivated = assess(session, worker_ids=paid_workers, now=now).reactivated
    return report


def _upsert_payments(session: Session, rows: list[dict]) -> None:
    """Re-importing the same file is harmless: a (worker, month) already stored keeps one row, updated."""
    existing: set[str] = set()
    for part in chunked([r["id"] for r in rows]):
        existing.update(session.execute(select(Payment.id).where(Payment.id.in_(part))).scalars())
    insert_ignoring_conflicts(session, Payment, [r for r in rows if r["id"] not in existing])
    for row in rows:
        if row["id"] in existing:
            session.execute(
                update(Payment)
                .where(Payment.id == row["id"])
                .values(amount=row["amount"], paid_at=row["paid_at"], imported_at=row["imported_at"])
            )


def monthly_contribution(monthly_income: float | None, programs: str | None) -> int:
    """JKK 1% of declared income (min Rp10,000) + JKM Rp6,800 (+ JHT 2% when chosen)."""
    income = float(monthly_income or 0)
    amount = max(JKK_MIN, round(income * JKK_RATE)) + JKM
    if programs and "JHT" in programs.upper().split(","):
        amount += round(income * JHT_RATE)
    return int(amount)


def first_month(enrolled_at: int, tz: str) -> str:
    """The first contribution month: the enrolment month, or the next one if its deadline had passed."""
    day = workdays.to_local(enrolled_at, tz).date()
    month = workdays.month_of(day)
    return month if day <= workdays.payment_deadline(month) else workdays.add_months(month, 1)


def unpaid_streak(first: str, today: dt.date, paid: set[str]) -> tuple[int, str | None]:
    """Consecutive unpaid months whose deadline has passed, ending at the latest such month."""
    month = workdays.month_of(today)
    if today <= workdays.payment_deadline(month):
        month = workdays.add_months(month, -1)
    latest = month if month >= first else None
    streak = 0
    while month >= first and month not in paid and streak < 24:
        streak += 1
        month = workdays.add_months(month, -1)
    return streak, latest


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
    workers = session.execute(select(Worker).where(Worker.id.in_(worker_ids), Worker.deleted_at.is_(None))).scalars()
    workers = [w for w in workers if w.enrolled_at is not None]
    zones = worker_zones(session, [w.id for w in workers])
    paid: dict[str, set[str]] = {}
    for wid, month in session.execute(
        select(Payment.worker_id, Payment.contribution_month).where(Payment.worker_id.in_(worker_ids))
    ):
        paid.setdefault(wid, set()).add(month)
    enrolments: dict[str, Enrollment] = {}
    for enrolment in session.execute(
        select(Enrollment)
        .where(Enrollment.worker_id.in_(worker_ids), Enrollment.status == "verified", Enrollment.deleted_at.is_(None))
        .order_by(Enrollment.server_created_at)
    ).scalars():
        enrolments.setdefault(enrolment.worker_id, enrolment)
    reminders, escalations, status_changes = [], [], {}
    for worker in workers:
        tz = zones[worker.id]
        today = workdays.to_local(now, tz).date()
        first = first_month(worker.enrolled_at, tz)
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
