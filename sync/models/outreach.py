"""Outreach after the visit: the reminder outbox, BPJS payments, opt-outs and scheduler bookkeeping.

None of these tables is synced to phones. Reminders are an outbox: every instance's scheduler claims due
rows with a lease (``lease_until``, ``claimed_by``), sends outside the transaction and marks them sent
only while it still holds the lease (docs/architecture.md (scheduler)).
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from sync.models.base import Base

REMINDER_STATUSES = ("pending", "sent", "failed", "dead", "cancelled")
RECIPIENT_TYPES = ("worker", "agent")
CHANNELS = ("sms", "whatsapp")


class Reminder(Base):
    """One message to one recipient, sent at most once through the configured channel.

    ``status``: ``pending`` (never tried), ``failed`` (last try failed, retried at ``send_after``),
    ``sent``, ``dead`` (gave up: permanent failure or too many attempts) and ``cancelled`` (no longer
    wanted: opted out, not a mobile number, already paid). ``send_after`` moves with backoff, quiet hours
    and the daily cap; ``due_at`` keeps the time it was asked for.
    """

    __tablename__ = "reminders"
    __table_args__ = (
        Index("ix_reminders_claimable", "status", "send_after"),
        Index("ix_reminders_recipient", "recipient_type", "recipient_id"),
        UniqueConstraint("dedupe_key", name="uq_reminders_dedupe_key"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))  # payment_due, message, …
    recipient_type: Mapped[str] = mapped_column(String(16))
    recipient_id: Mapped[str] = mapped_column(String(64))
    worker_id: Mapped[str | None] = mapped_column(String(64), index=True)
    branch_id: Mapped[str | None] = mapped_column(String(64), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    timezone: Mapped[str] = mapped_column(String(32))
    subject_month: Mapped[str | None] = mapped_column(String(7))  # payment reminders: the contribution month
    dedupe_key: Mapped[str | None] = mapped_column(String(128))
    due_at: Mapped[int] = mapped_column(BigInteger)
    send_after: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_until: Mapped[int | None] = mapped_column(BigInteger)
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[int | None] = mapped_column(BigInteger)
    created_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[int] = mapped_column(BigInteger)


class ReminderDaySlot(Base):
    """The one reminder a recipient may get on one local day; the primary key makes the cap race-free."""

    __tablename__ = "reminder_day_slots"

    recipient_key: Mapped[str] = mapped_column(String(100), primary_key=True)
    local_day: Mapped[str] = mapped_column(String(10), primary_key=True)
    reminder_id: Mapped[str] = mapped_column(String(64))


class ReminderOptOut(Base):
    """A phone number that answered STOP; only its keyed blind index is stored, never the number."""

    __tablename__ = "reminder_opt_outs"

    phone_index: Mapped[str] = mapped_column(String(64), primary_key=True)
    created_at: Mapped[int] = mapped_column(BigInteger)


class Payment(Base):
    """A monthly BPU contribution reported by BPJS (one row per worker and contribution month)."""

    __tablename__ = "payments"
    __table_args__ = (UniqueConstraint("worker_id", "contribution_month", name="uq_payments_worker_month"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    worker_id: Mapped[str] = mapped_column(String(64), index=True)
    contribution_month: Mapped[str] = mapped_column(String(7))  # YYYY-MM
    amount: Mapped[int] = mapped_column(BigInteger)
    paid_at: Mapped[int] = mapped_column(BigInteger)
    imported_at: Mapped[int] = mapped_column(BigInteger)
    imported_by: Mapped[str | None] = mapped_column(String(64))


class SchedulerJob(Base):
    """A periodic job that must run on one instance at a time (claimed with a lease, like reminders)."""

    __tablename__ = "scheduler_jobs"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    next_run_at: Mapped[int] = mapped_column(BigInteger)
    lease_until: Mapped[int | None] = mapped_column(BigInteger)
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    last_run_at: Mapped[int | None] = mapped_column(BigInteger)
