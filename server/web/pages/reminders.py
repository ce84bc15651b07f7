"""Pengingat: reminders that failed or gave up, with the last error and a retry, and a message composed
to one of the branch's agents or workers (``sync.reminders.manage``), each confirmed first."""

from __future__ import annotations

from flask import render_template, url_for
from sqlalchemy import select

from sync.accounts import scope
from sync.errors import NotFound
from sync.models.outreach import Reminder
from sync.protocol.clock import now_ms
from sync.reminders import manage

from ...extensions import db
from ...unit_of_work import reads, writes
from .. import bp
from ..forms import confirm_page, confirmed, done, form, query
from ..guard import current, page
from ..i18n import translate
from ..templating import format_time, label, viewer_zone
from .choices import agent_options, names_of, worker_names

STATUSES = ("dead", "failed", "pending", "sent", "cancelled", "all")
CHANNELS = ("sms", "whatsapp")
RECIPIENTS = ("agent", "worker")
MAX_TEXT = 1000


@bp.route("/reminders")
@reads
@page
def reminders():
    """Reminders of the branch (admins: all), newest first; dead ones by default."""
    principal = current()
    fields = query()
    status = fields.choice("status", STATUSES, "dead") or "dead"
    limit, cursor = fields.limit(), fields.cursor()
    fields.check()
    result = manage.list_reminders(
        db.session, principal=principal, status=None if status == "all" else status, limit=limit, cursor=cursor
    )
    agents = names_of(r.recipient_id for r in result.items if r.recipient_type == "agent")
    workers = worker_names(principal, (r.recipient_id for r in result.items if r.recipient_type == "worker"))
    return render_template(
        "reminders.html",
        items=result.items,
        page=result,
        status=status,
        statuses=STATUSES,
        recipients={**agents, **workers},
        retryable=manage.RETRYABLE,
    )


@bp.route("/reminders/<string:reminder_id>/retry", methods=["POST"])
@writes
@page
def retry(reminder_id: str):
    """Put a failed, dead or cancelled reminder back in the outbox with a fresh attempt count."""
    found = db.session.execute(select(Reminder.id).where(Reminder.id == reminder_id, scope.reminders(current())))
    if found.first() is None:
        raise NotFound("no such reminder")
    if not confirmed():
        return confirm_page(translate("reminders.confirm_retry"), [], url_for("web.reminders"))
    manage.retry(db.session, principal=current(), reminder_id=reminder_id, now=now_ms())
    return done("reminders.done_retry", url_for("web.reminders", status="pending"))


def _compose_page(values: dict):
    principal = current()
    workers = worker_names(principal, [values.get("worker")])
    return render_template(
        "reminder_new.html",
        values=values,
        agents=agent_options(principal, active_only=True),
        worker_name=workers.get(values.get("worker") or ""),
        channels=[(c, label("channel", c)) for c in CHANNELS],
        max_text=MAX_TEXT,
    )


@bp.route("/reminders/new")
@reads
@page
def compose():
    """The message form; ``worker`` (from a person's page) or ``agent`` pre-selects the recipient."""
    fields = query()
    values = {"agent": fields.identifier("agent"), "worker": fields.identifier("worker")}
    fields.check()
    values["to"] = "worker" if values["worker"] else "agent"
    return _compose_page(values)


@bp.route("/reminders/new", methods=["POST"])
@writes
@page
def send():
    """Queue the message; it is dispatched like every reminder (quiet hours, opt-out, exactly once)."""
    principal = current()
    fields = form()
    to = fields.choice("to", RECIPIENTS, "agent")
    agent_id = fields.identifier("agent", required=to == "agent")
    worker_id = fields.identifier("worker", required=to == "worker")
    text = fields.text("text", required=True, max_len=MAX_TEXT)
    channel = fields.choice("channel", CHANNELS, "sms")
    due_at = fields.local_time("due_at", viewer_zone())
    fields.check()
    values = {"text": text, "channel": channel, "due_at": due_at}
    values |= {"agent_id": agent_id} if to == "agent" else {"worker_id": worker_id}
    if not confirmed():
        recipient = (
            names_of([agent_id]).get(agent_id or "", "—")
            if to == "agent"
            else worker_names(principal, [worker_id]).get(worker_id or "", "—")
        )
        details = [
            (translate("reminders.recipient"), recipient),
            (translate("reminders.channel"), label("channel", channel)),
            (translate("reminders.send_at"), format_time(due_at) if due_at else translate("reminders.now")),
            (translate("reminders.text"), text or ""),
        ]
        return confirm_page(translate("reminders.confirm_send"), details, url_for("web.compose"))
    manage.send_message(db.session, principal=principal, values=values, now=now_ms())
    return done("reminders.done_send", url_for("web.reminders", status="pending"))
