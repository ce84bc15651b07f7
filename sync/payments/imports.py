"""BPJS payment files read line by line (docs/domain.md "Contributions and payments").

``PaymentImport`` keeps every good line of a payment file and reports each bad one by its line number (the
server's upload runner feeds it batches); a supervisor imports for their own branch's people only. The
workers a file paid are assessed again at the end, so a payment after lapsing makes the member active.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from functools import partial
from typing import cast

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from sync.accounts import scope
from sync.accounts.principal import Principal
from sync.calendar import workdays
from sync.csv_header import column_positions, missing_columns
from sync.identifiers.digits import ascii_digits, digit_string
from sync.models import Worker
from sync.models.outreach import Payment, Reminder
from sync.payments.assessment import assess
from sync.pii import PiiProtector
from sync.reminders.outbox import insert_ignoring_conflicts
from sync.writes import chunked

COLUMNS = {
    "nik": ("nik",),
    "month": ("contribution_month", "month", "bulan", "bulan_iuran", "periode"),
    "amount": ("amount", "jumlah", "nominal", "iuran"),
    "paid_at": ("paid_at", "tanggal_bayar", "tgl_bayar", "paid_date"),
}
ALIASES = {alias: column for column, names in COLUMNS.items() for alias in names}
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
        self.columns = column_positions(names, ALIASES)
        return missing_columns(self.columns, COLUMNS)

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
