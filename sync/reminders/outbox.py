"""Putting reminders into the outbox (never sending them: that is ``dispatch``'s job)."""

from __future__ import annotations

from typing import cast

from sqlalchemy import select
from sqlalchemy.orm import Session

from sync.models import new_id
from sync.models.outreach import Reminder
from sync.protocol.clock import now_ms


def insert_ignoring_conflicts(session: Session, model, rows: list[dict]) -> None:
    """INSERT … ON CONFLICT DO NOTHING on either database (replays and races leave the first row)."""
    if not rows:
        return
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        session.execute(pg_insert(model).on_conflict_do_nothing(), rows)
    else:
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        session.execute(sqlite_insert(model).on_conflict_do_nothing(), rows)


def reminder_row(
    *,
    kind: str,
    recipient_type: str,
    recipient_id: str,
    text: str,
    due_at: int,
    timezone: str,
    channel: str = "sms",
    worker_id: str | None = None,
    branch_id: str | None = None,
    subject_month: str | None = None,
    dedupe_key: str | None = None,
    created_by: str | None = None,
    now: int | None = None,
) -> dict:
    now = now_ms() if now is None else now
    return {
        "id": new_id(),
        "kind": kind,
        "recipient_type": recipient_type,
        "recipient_id": recipient_id,
        "worker_id": worker_id if worker_id else (recipient_id if recipient_type == "worker" else None),
        "branch_id": branch_id,
        "channel": channel,
        "text": text,
        "timezone": timezone,
        "subject_month": subject_month,
        "dedupe_key": dedupe_key,
        "due_at": due_at,
        "send_after": due_at,
        "status": "pending",
        "attempts": 0,
        "lease_until": None,
        "claimed_by": None,
        "last_error": None,
        "sent_at": None,
        "created_by": created_by,
        "created_at": now,
        "updated_at": now,
    }


def enqueue(session: Session, **fields) -> Reminder:
    """Add one reminder; with a ``dedupe_key`` already present, return the existing row instead."""
    row = reminder_row(**fields)
    insert_ignoring_conflicts(session, Reminder, [row])
    if row["dedupe_key"]:
        return session.execute(select(Reminder).where(Reminder.dedupe_key == row["dedupe_key"])).scalar_one()
    return cast(Reminder, session.get(Reminder, row["id"]))  # inserted just above


def enqueue_many(session: Session, rows: list[dict]) -> None:
    """Add reminder rows made by ``reminder_row``; rows whose ``dedupe_key`` exists are skipped."""
    for start in range(0, len(rows), 500):
        insert_ignoring_conflicts(session, Reminder, rows[start : start + 500])
