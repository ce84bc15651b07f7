"""Claim due reminders with a lease, send them outside any transaction, record the outcome.

Exactly-once towards the gateway rests on three things: the claim is one atomic statement (PostgreSQL
``FOR UPDATE SKIP LOCKED``; SQLite has one writer), an instance sends only while its lease has time left,
and the outcome is written only ``WHERE claimed_by = me``. A crashed instance's rows come back when its
lease expires; the gateway drops the rare repeat by the ``Idempotency-Key``.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import cast

from sqlalchemy import CursorResult, select, text
from sqlalchemy.orm import Session

from sync.calendar.workdays import local_ms, to_local
from sync.identifiers.phone import check_phone
from sync.models import User, Worker
from sync.models.outreach import Payment, ReminderDaySlot, ReminderOptOut
from sync.pii import PiiProtector
from sync.protocol.clock import now_ms
from sync.reminders.backoff import retry_delay_ms
from sync.reminders.channels import Channel, Delivery
from sync.reminders.outbox import insert_ignoring_conflicts
from sync.reminders.quiet import next_sendable
from sync.reminders.settings import DispatchSettings
from sync.writes import chunked, load_by_ids

log = logging.getLogger(__name__)
PAYMENT_KINDS = ("payment_due",)
SEND_HOUR = dt.time(9, 0)
_COLUMNS = (
    "id, kind, recipient_type, recipient_id, channel, text, timezone, subject_month, attempts, lease_until, send_after"
)
_CLAIMABLE = "status IN ('pending', 'failed') AND send_after <= :now AND (lease_until IS NULL OR lease_until < :now)"


@dataclass
class Outgoing:
    id: str
    to: str
    channel: str
    text: str
    kind: str
    attempts: int
    lease_until: int


@dataclass
class TickReport:
    claimed: int = 0
    sent: int = 0
    failed: int = 0
    dead: int = 0
    deferred: int = 0
    cancelled: int = 0
    lost: int = 0
    jobs: list[str] = field(default_factory=list)

    def add(self, other: TickReport) -> None:
        for name in ("claimed", "sent", "failed", "dead", "deferred", "cancelled", "lost"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


def claim(session: Session, *, me: str, now: int, limit: int, lease_ms: int) -> list[dict]:
    """Lease up to ``limit`` due reminders to ``me`` in one statement; counts the attempt now."""
    lock = " FOR UPDATE SKIP LOCKED" if session.get_bind().dialect.name == "postgresql" else ""
    sql = text(
        f"UPDATE reminders SET claimed_by = :me, lease_until = :lease, attempts = attempts + 1, updated_at = :now "
        f"WHERE id IN (SELECT id FROM reminders WHERE {_CLAIMABLE} ORDER BY send_after LIMIT :limit{lock}) "
        f"RETURNING {_COLUMNS}"
    )
    rows = session.execute(sql, {"me": me, "now": now, "lease": now + lease_ms, "limit": limit}).mappings()
    return sorted((dict(r) for r in rows), key=lambda r: (r["send_after"], r["id"]))  # RETURNING has no order


def _release(session: Session, *, me: str, now: int, updates: list[dict], sql_set: str) -> None:
    if updates:
        session.execute(
            text(
                f"UPDATE reminders SET {sql_set}, lease_until = NULL, claimed_by = NULL, updated_at = :now "
                "WHERE id = :id AND claimed_by = :me"
            ),
            [u | {"me": me, "now": now} for u in updates],
        )


class _Recipients:
    """Addresses for a claimed batch, loaded once: workers' decrypted phones, agents' user ids."""

    def __init__(self, session: Session, claimed: list[dict], pii: PiiProtector | None):
        worker_ids = {c["recipient_id"] for c in claimed if c["recipient_type"] == "worker"}
        agent_ids = {c["recipient_id"] for c in claimed if c["recipient_type"] == "agent"}
        workers = load_by_ids(session, Worker, worker_ids, Worker.id, Worker.phone_encrypted, Worker.deleted_at)
        self.agents = load_by_ids(session, User, agent_ids, User.id, User.active)
        self.phones: dict[str, tuple[str | None, str | None]] = {}  # worker → (e164 if mobile, reason)
        for wid, row in workers.items():
            if row["deleted_at"] is not None:
                self.phones[wid] = (None, "pekerja dihapus / worker deleted")
                continue
            raw = pii.decrypt(row["phone_encrypted"], row_id=wid) if pii and row["phone_encrypted"] else None
            check = check_phone(raw)
            if not check.e164 or not check.is_mobile:
                self.phones[wid] = (None, "bukan nomor seluler / no mobile number")
            else:
                self.phones[wid] = (check.e164, None)
        indexes = {pii.blind_index("phone", e164): wid for wid, (e164, _) in self.phones.items() if e164 and pii}
        for part in chunked(sorted(indexes)):
            for index in session.execute(
                select(ReminderOptOut.phone_index).where(ReminderOptOut.phone_index.in_(part))
            ).scalars():
                self.phones[indexes[index]] = (None, "berhenti berlangganan / opted out")
        month_workers = {c["recipient_id"] for c in claimed if c["kind"] in PAYMENT_KINDS}
        self.paid: set[tuple[str, str]] = set()
        for part in chunked(sorted(month_workers)):
            self.paid.update(
                session.execute(
                    select(Payment.worker_id, Payment.contribution_month).where(Payment.worker_id.in_(part))
                )
            )

    def address(self, reminder: dict) -> tuple[str | None, str | None]:
        """(where to send, None) or (None, why it is cancelled)."""
        rid = reminder["recipient_id"]
        if reminder["recipient_type"] == "agent":
            agent = self.agents.get(rid)
            return (f"user:{rid}", None) if agent and agent["active"] else (None, "agen tidak aktif / inactive agent")
        if reminder["kind"] in PAYMENT_KINDS and (rid, reminder["subject_month"]) in self.paid:
            return None, "sudah dibayar / already paid"
        return self.phones.get(rid, (None, "pekerja tidak ada / unknown worker"))


def prepare(
    session: Session, claimed: list[dict], *, me: str, now: int, settings: DispatchSettings, pii: PiiProtector | None
) -> tuple[list[Outgoing], TickReport]:
    """Decide, for each claimed reminder, to send now, defer (quiet hours, daily cap) or cancel."""
    report = TickReport()
    recipients = _Recipients(session, claimed, pii)
    cancels, defers, candidates = [], [], []
    for reminder in claimed:
        to, reason = recipient = recipients.address(reminder)
        if reason:
            cancels.append({"id": reminder["id"], "err": reason})
            continue
        tz = reminder["timezone"]
        at = next_sendable(now, tz, settings.quiet_hours)
        if at > now:
            defers.append({"id": reminder["id"], "at": at})
            continue
        key = f"{reminder['recipient_type']}:{reminder['recipient_id']}"
        candidates.append((reminder, recipient[0], key, to_local(now, tz).date()))
    slots = {(key, day.isoformat()): r["id"] for r, _, key, day in reversed(candidates)}  # first claimer wins
    insert_ignoring_conflicts(
        session,
        ReminderDaySlot,
        [{"recipient_key": k, "local_day": d, "reminder_id": rid} for (k, d), rid in slots.items()],
    )
    owners: dict[tuple[str, str], str] = {}
    for part in chunked(sorted({k for k, _ in slots})):
        rows = session.execute(
            select(ReminderDaySlot.recipient_key, ReminderDaySlot.local_day, ReminderDaySlot.reminder_id).where(
                ReminderDaySlot.recipient_key.in_(part), ReminderDaySlot.local_day.in_({d for _, d in slots})
            )
        )
        owners.update({(k, d): rid for k, d, rid in rows})
    outgoing = []
    for reminder, to, key, day in candidates:
        if owners.get((key, day.isoformat())) != reminder["id"]:
            tomorrow = local_ms(day + dt.timedelta(days=1), SEND_HOUR, reminder["timezone"])
            at = next_sendable(tomorrow, reminder["timezone"], settings.quiet_hours)
            defers.append({"id": reminder["id"], "at": at})
            continue
        outgoing.append(
            Outgoing(
                reminder["id"],
                cast(str, to),  # address() gave no reason, so it gave a destination
                reminder["channel"],
                reminder["text"],
                reminder["kind"],
                reminder["attempts"],
                reminder["lease_until"],
            )
        )
    _release(session, me=me, now=now, updates=cancels, sql_set="status = 'cancelled', last_error = :err")
    _release(session, me=me, now=now, updates=defers, sql_set="send_after = :at, attempts = attempts - 1")
    report.cancelled, report.deferred = len(cancels), len(defers)
    return outgoing, report


def record(session: Session, item: Outgoing, result: Delivery, *, me: str, now: int, settings: DispatchSettings) -> str:
    """Write one send's outcome while still holding the lease; returns the new status or ``lost``."""
    if session.get_bind().dialect.name == "postgresql":
        # Don't wait for the WAL flush: only a database crash could lose this mark, and then the gateway
        # drops the re-send by its Idempotency-Key. A crash of this process loses nothing.
        session.execute(text("SET LOCAL synchronous_commit TO OFF"))
    if result.ok:
        status = "sent"
        values = {"status": status, "sent_at": now, "err": None, "after": None}
        sql_set = "status = :status, sent_at = :sent_at, last_error = :err"
    else:
        dead = not result.retryable or item.attempts >= settings.max_attempts
        delay = retry_delay_ms(item.attempts, base_ms=settings.backoff_base_ms, cap_ms=settings.backoff_cap_ms)
        if result.retry_after_s:
            delay = max(delay, int(result.retry_after_s * 1000))
        status = "dead" if dead else "failed"
        values = {"status": status, "err": result.error, "after": now + delay}
        sql_set = "status = :status, last_error = :err, send_after = :after"
    changed = cast(  # an UPDATE's result is a CursorResult
        CursorResult,
        session.execute(
            text(
                f"UPDATE reminders SET {sql_set}, lease_until = NULL, claimed_by = NULL, updated_at = :now "
                "WHERE id = :id AND claimed_by = :me"
            ),
            values | {"id": item.id, "me": me, "now": now},
        ),
    ).rowcount
    if not changed:
        log.warning("reminder %s: lease lost before its outcome was recorded", item.id)
        return "lost"
    return status


def dispatch(
    factory: Callable[[], Session],
    *,
    channel: Channel,
    settings: DispatchSettings,
    pii: PiiProtector | None,
    me: str,
    now: int | None = None,
    budget_s: float | None = None,
    clock: Callable[[], int] = now_ms,
) -> TickReport:
    """Claim, prepare and send batches until nothing is due or ``budget_s`` is spent.

    ``now`` pins the time (tests); otherwise ``clock`` is read before every step.
    """
    report = TickReport()
    started = clock()
    budget_ms = (budget_s if budget_s is not None else settings.interval_s * 0.8) * 1000
    timeout_ms = int(settings.timeout_s * 1000)
    while True:
        at = now if now is not None else clock()
        with factory() as session, session.begin():
            claimed = claim(session, me=me, now=at, limit=settings.batch_size, lease_ms=settings.lease_ms)
            if not claimed:
                break
            outgoing, prepared = prepare(session, claimed, me=me, now=at, settings=settings, pii=pii)
        report.claimed += len(claimed)
        report.add(prepared)
        with factory() as session:  # one connection for the batch's outcomes, one short transaction each
            for item in outgoing:
                if (now if now is not None else clock()) + timeout_ms >= item.lease_until:
                    report.lost += 1  # too little lease left to send safely: the rows return to the pool
                    continue
                message = {
                    "id": item.id,
                    "to": item.to,
                    "channel": item.channel,
                    "text": item.text,
                    "reminder_kind": item.kind,
                }
                result = channel.send(message, sender=me)
                done_at = now if now is not None else clock()
                with session.begin():
                    status = record(session, item, result, me=me, now=done_at, settings=settings)
                setattr(report, status, getattr(report, status) + 1)
        if now is None and clock() - started >= budget_ms:
            break
    return report
