"""BPJS payment files and what unpaid months set in motion (docs/domain.md "Contributions and payments").

``PaymentImport`` keeps every good line of a payment file and reports each bad one by its line number (the
server's upload runner feeds it batches); a supervisor imports for their own branch's people only.
``assess_all`` (hourly, on one instance) plans D-5 and D-1 reminders at 09:00 local for an unpaid current
month, opens an escalation follow-up for the agent at 2 unpaid months, and sets ``membership_status = lapsed`` at 3,
stamped so phones see it. A payment after lapsing makes the member ``active`` again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import cast

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from . import scope
from .clock import next_stamp
from .follow_ups import workdays
from .follow_ups.rules import follow_up_id
from .models import Enrollment, FollowUp, Worker
from .models.outreach import Payment, Reminder
from .pii import PiiProtector
from .principal import Principal
from .reminders.outbox import enqueue_many, insert_ignoring_conflicts, reminder_row
from .reminders.recipients import worker_zones
from .reminders.templates import payment_text
from .validation.digits import ascii_digits, digit_string
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
# What a payment line may hold: anything else is a typo or a broken export, reported on its line.
FIRST_MONTH = "2000-01"
PREPAID_MONTHS = 12  # a member may pay up to 12 months ahead
MAX_AMOUNT = 100_000_000  # rupiah for one month: far above any BPU contribution, far below BIGINT
PAID_AT_MIN = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
PAID_AT_FUTURE_MS = 86_400_000  # a payment dated more than a day ahead of the server clock is refused
ASSESS_PAGE = 500  # workers per assess() call once the lines are stored
MAX_CELL = 64  # characters of a month, amount or date cell; longer ones are refused unread
UNKNOWN_NIK = "NIK tidak terdaftar / no member with this NIK"
NIK_DIGITS = "NIK harus 16 digit / NIK must be 16 digits"
MONTH_FORMAT = "bulan iuran harus YYYY-MM / contribution month must be YYYY-MM"
AMOUNT_RANGE = f"jumlah harus bilangan bulat rupiah 1..{MAX_AMOUNT} / amount must be whole rupiah, 1 to {MAX_AMOUNT}"
PAID_AT_FORMAT = "paid_at harus tanggal ISO 8601 / paid_at must be an ISO 8601 date"
PAID_AT_RANGE = "paid_at di luar rentang / paid_at must lie between 2000-01-01 and today"


def _month(value: str, *, latest: str) -> str:
    text = ascii_digits(value).strip() if len(value) <= MAX_CELL else ""
    month = None
    year, dash, mon = text[:4], text[4:5], text[5:]
    if len(text) == 7 and text.isascii() and dash == "-" and year.isdigit() and mon.isdigit() and "01" <= mon <= "12":
        month = text  # YYYY-MM, the usual form, without strptime's cost
    elif text:
        for fmt in ("%Y-%m", "%Y%m", "%m/%Y", "%Y-%m-%d"):
            try:
                month = dt.datetime.strptime(text, fmt).strftime("%Y-%m")
                break
            except ValueError:
                continue
    if month is None:
        raise ValueError(MONTH_FORMAT)
    if not FIRST_MONTH <= month <= latest:
        raise ValueError(
            f"bulan iuran di luar rentang / contribution month must lie between {FIRST_MONTH} and {latest}"
        )
    return month


def _amount(value: str) -> int:
    if len(value) > MAX_CELL:
        raise ValueError(AMOUNT_RANGE)
    text = ascii_digits(value).strip().replace("Rp", "").replace(" ", "")
    if text.endswith((".00", ",00")):
        text = text[:-3]
    text = text.replace(".", "").replace(",", "")
    if not (text.isascii() and text.isdigit()) or len(text) > len(str(MAX_AMOUNT)):
        raise ValueError(AMOUNT_RANGE)
    amount = int(text)
    if not 0 < amount <= MAX_AMOUNT:
        raise ValueError(AMOUNT_RANGE)
    return amount


def _paid_at(value: str, *, now: int) -> int:
    if len(value) > MAX_CELL:
        raise ValueError(PAID_AT_FORMAT)
    text = ascii_digits(value).strip()
    if text.isascii() and text.isdigit() and len(text) >= 12:
        if len(text) > 15:
            raise ValueError(PAID_AT_RANGE)
        paid_at = int(text)  # epoch milliseconds
    else:
        try:
            moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(PAID_AT_FORMAT) from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=workdays.zone(PAYMENT_ZONE))
        paid_at = workdays.to_ms(moment)
    if not workdays.to_ms(PAID_AT_MIN) <= paid_at <= now + PAID_AT_FUTURE_MS:
        raise ValueError(PAID_AT_RANGE)
    return paid_at


def _header_map(header: list[str]) -> dict[str, int]:
    names = [h.strip().lower().lstrip("\ufeff") for h in header]
    found = {}
    for key, aliases in COLUMNS.items():
        for alias in aliases:
            if alias in names:
                found[key] = names.index(alias)
                break
    return found


class PaymentImport:
    """A BPJS payment CSV (``nik, contribution_month, amount, paid_at``), fed in batches by the upload runner.

    Each batch: one lookup of its NIKs (blind indexes) among the workers the caller may import for, one
    upsert of its payments, the cancellation of reminders for the months now paid. Once every line is
    stored, ``finish`` assesses the workers paid by this import (read back from the payments it stamped,
    not held in memory), so a person whose months straddle batches is assessed once, on all of them.
    """

    def __init__(self, session: Session, *, pii: PiiProtector, now: int, principal: Principal) -> None:
        self.session, self.pii, self.now, self.principal = session, pii, now, principal
        self.columns: dict[str, int] = {}
        self.imported = 0
        this_month = workdays.month_of(workdays.to_local(now, PAYMENT_ZONE).date())
        self.parsers: dict[str, Callable[[str], object]] = {
            "month": partial(_month, latest=workdays.add_months(this_month, PREPAID_MONTHS)),
            "amount": _amount,
            "paid_at": partial(_paid_at, now=now),
        }

    def header(self, names: list[str]) -> dict[str, list[str]]:
        self.columns = _header_map(names)
        missing = [k for k in COLUMNS if k not in self.columns]
        if missing:
            return {"header": [f"kolom hilang / missing columns: {', '.join(missing)}"]}
        return {}

    def add(self, batch: list[tuple[int, list[str]]]) -> list[tuple[int, dict]]:
        errors: list[tuple[int, dict]] = []
        parsed: list[tuple[int, str, dict]] = []
        for number, raw in batch:
            cells = {k: raw[i] if i < len(raw) else "" for k, i in self.columns.items()}
            line_errors: dict[str, list[str]] = {}
            values: dict = {}
            nik = digit_string(cells["nik"], length=16)
            if nik is None:
                line_errors["nik"] = [NIK_DIGITS]
            for key, parse in self.parsers.items():
                try:
                    values[key] = parse(cells[key])
                except ValueError as exc:
                    line_errors[key] = [str(exc)]
            if line_errors:
                errors.append((number, line_errors))
            else:
                parsed.append((number, cast(str, self.pii.blind_index("nik", nik)), values))  # a NIK: an index
        workers = self._workers({index for _, index, _ in parsed})
        good: dict[tuple[str, str], dict] = {}
        for number, index, values in parsed:
            worker_id = workers.get(index)
            if worker_id is None:  # unknown, or outside the caller's scope: the same answer
                errors.append((number, {"nik": [UNKNOWN_NIK]}))
                continue
            good[(worker_id, values["month"])] = {
                "id": "pay" + hashlib.sha256(f"{worker_id}:{values['month']}".encode()).hexdigest()[:29],
                "worker_id": worker_id,
                "contribution_month": values["month"],
                "amount": values["amount"],
                "paid_at": values["paid_at"],
                "imported_at": self.now,
                "imported_by": self.principal.user_id,
            }
        self.imported += _upsert_payments(self.session, list(good.values()), now=self.now)
        self._cancel_paid_reminders(good)
        return errors

    def finish(self) -> dict:
        return {"imported": self.imported, "workers_reactivated": self._assess_paid_workers()}

    def _workers(self, indexes: set[str]) -> dict[str, str]:
        """Blind index → the (earliest) live worker with it the caller may import for."""
        found: dict[str, str] = {}
        for part in chunked(sorted(indexes)):
            rows = self.session.execute(
                select(Worker.nik_index, Worker.id)
                .where(Worker.nik_index.in_(part), scope.payable_workers(self.principal))
                .order_by(Worker.server_created_at, Worker.id)
            )
            for index, worker_id in rows:
                found.setdefault(cast(str, index), worker_id)  # nik_index IN part: never NULL
        return found

    def _cancel_paid_reminders(self, good: dict[tuple[str, str], dict]) -> None:
        by_month: dict[str, list[str]] = {}
        for worker_id, month in good:
            by_month.setdefault(month, []).append(worker_id)
        for month, month_workers in by_month.items():
            for part in chunked(sorted(month_workers)):
                self.session.execute(
                    update(Reminder)
                    .where(
                        Reminder.kind == "payment_due",
                        Reminder.subject_month == month,
                        Reminder.worker_id.in_(part),
                        Reminder.status.in_(("pending", "failed")),
                        (Reminder.lease_until.is_(None)) | (Reminder.lease_until < self.now),
                    )
                    .values(status="cancelled", last_error="sudah dibayar / already paid", updated_at=self.now)
                )

    def _assess_paid_workers(self) -> int:
        """Assess, in pages, every worker with a payment this import wrote (stamped ``imported_at = now``)."""
        paid = (
            select(Payment.worker_id)
            .where(Payment.imported_at == self.now)
            .distinct()
            .order_by(Payment.worker_id)
            .execution_options(yield_per=ASSESS_PAGE)
        )
        reactivated = 0
        for page in self.session.execute(paid).scalars().partitions():
            reactivated += assess(self.session, worker_ids=list(page), now=self.now).reactivated
        return reactivated


def _upsert_payments(session: Session, rows: list[dict], *, now: int) -> int:
    """Re-importing the same file is harmless: a (worker, month) already stored keeps one row, updated.

    Returns how many (worker, month) pairs this import wrote for the first time: a row it already wrote in
    an earlier batch (``imported_at`` is this import's ``now``) is updated again but not counted twice.
    """
    existing: dict[str, int] = {}
    for part in chunked([r["id"] for r in rows]):
        existing.update(session.execute(select(Payment.id, Payment.imported_at).where(Payment.id.in_(part))).all())
    insert_ignoring_conflicts(session, Payment.__table__, [r for r in rows if r["id"] not in existing])  # Core
    updates = [
        {key: row[key] for key in ("id", "amount", "paid_at", "imported_at", "imported_by")}
        for row in rows
        if row["id"] in existing
    ]
    if updates:
        session.execute(update(Payment), updates)  # ORM bulk UPDATE by primary key: one executemany
    return sum(1 for row in rows if existing.get(row["id"]) != now)


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
