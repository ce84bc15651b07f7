"""Reminders as supervisors handle them: a message to their people, the list, retry, and opt-outs."""

from __future__ import annotations

from typing import cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session

from sync.accounts import scope
from sync.accounts.principal import Principal
from sync.errors import Conflict, InvalidRequest, NotFound
from sync.identifiers.phone import check_phone
from sync.models import User, Worker
from sync.models.outreach import Reminder, ReminderOptOut
from sync.pagination import Page, paginate
from sync.pii import PiiProtector
from sync.reminders.outbox import enqueue, insert_ignoring_conflicts
from sync.reminders.recipients import agent_zone, worker_branch, worker_zones

RETRYABLE = ("failed", "dead", "cancelled")


def _recipient(session: Session, principal: Principal, model, rule, recipient_id: str):
    """The agent or worker to message if the caller may (``sync.accounts.scope``), else ``NotFound``."""
    found = session.execute(select(model).where(model.id == recipient_id, rule(principal))).scalar_one_or_none()
    if found is None:
        raise NotFound(f"no {'agent' if model is User else 'worker'} {recipient_id}")
    return found


def send_message(session: Session, *, principal: Principal, values: dict, now: int) -> Reminder:
    """A supervisor's own message (a meeting, a village announcement) to one of their agents or workers."""
    if bool(values.get("agent_id")) == bool(values.get("worker_id")):
        raise InvalidRequest(
            "give exactly one of agent_id and worker_id",
            errors={"agent_id": ["agent_id atau worker_id, salah satu / exactly one of agent_id, worker_id"]},
        )
    if values.get("agent_id"):
        agent = _recipient(session, principal, User, scope.agents, values["agent_id"])
        recipient = {"recipient_type": "agent", "recipient_id": agent.id, "branch_id": agent.branch_id}
        tz = agent_zone(session, agent)
    else:
        worker = _recipient(session, principal, Worker, scope.workers_to_act_on, values["worker_id"])
        branch = principal.branch_id if principal.role == "supervisor" else worker_branch(session, worker.id)
        recipient = {"recipient_type": "worker", "recipient_id": worker.id, "branch_id": branch}
        tz = worker_zones(session, [worker.id])[worker.id]
    return enqueue(
        session,
        kind="message",
        text=values["text"],
        due_at=values.get("due_at") or now,
        timezone=tz,
        channel=values.get("channel") or "sms",
        created_by=principal.user_id,
        now=now,
        **recipient,
    )


def list_reminders(
    session: Session, *, principal: Principal, status: str | None, limit: int, cursor: str | None
) -> Page:
    query = select(Reminder).where(scope.reminders(principal))
    if status:
        query = query.where(Reminder.status == status)
    return paginate(session, query, sort_column=Reminder.created_at, id_column=Reminder.id, limit=limit, cursor=cursor)


def retry(session: Session, *, principal: Principal, reminder_id: str, now: int) -> Reminder:
    """Send a failed, dead or cancelled reminder again, from a fresh attempt count."""
    reminder = session.execute(
        select(Reminder).where(Reminder.id == reminder_id, scope.reminders(principal))
    ).scalar_one_or_none()
    if reminder is None:
        raise NotFound(f"no reminder {reminder_id}")
    if reminder.status not in RETRYABLE:
        raise Conflict(
            f"a {reminder.status} reminder cannot be retried",
            errors={"status": [f"hanya {', '.join(RETRYABLE)} / only {', '.join(RETRYABLE)} can be retried"]},
        )
    result = session.execute(
        update(Reminder)
        .where(Reminder.id == reminder.id, Reminder.status.in_(RETRYABLE))
        .values(
            status="pending",
            attempts=0,
            send_after=now,
            lease_until=None,
            claimed_by=None,
            last_error=None,
            updated_at=now,
        )
    )
    if not cast(CursorResult, result).rowcount:  # an UPDATE's result is a CursorResult
        raise Conflict("the reminder changed meanwhile; reload it")
    session.refresh(reminder)
    return reminder


def opt_out(session: Session, *, pii: PiiProtector, phone: str, now: int) -> str:
    """Record a STOP for ``phone`` (only its blind index) and cancel what is waiting for it."""
    check = check_phone(phone)
    if not check.e164:
        raise InvalidRequest("not a phone number", errors={"phone": [check.error or "required"]})
    index = pii.blind_index("phone", check.e164)
    insert_ignoring_conflicts(session, ReminderOptOut, [{"phone_index": index, "created_at": now}])
    workers = select(Worker.id).where(Worker.phone_index == index)
    session.execute(
        update(Reminder)
        .where(
            Reminder.recipient_type == "worker",
            Reminder.recipient_id.in_(workers),
            Reminder.status.in_(("pending", "failed")),
            (Reminder.lease_until.is_(None)) | (Reminder.lease_until < now),
        )
        .values(status="cancelled", last_error="berhenti berlangganan / opted out", updated_at=now)
    )
    return check.e164
