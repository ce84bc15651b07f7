"""Tindak lanjut: overdue and upcoming follow-ups (``sync.workspace.due``), reassign to another agent and
reschedule (``sync.follow_ups.manage``), each confirmed first."""

from __future__ import annotations

from flask import render_template, url_for

from sync.follow_ups import manage
from sync.follow_ups.rules import branch_zone
from sync.protocol.clock import now_ms
from sync.workspace import due

from ...extensions import db
from ...unit_of_work import reads, writes
from .. import bp
from ..forms import confirm_page, confirmed, done, form, query
from ..guard import current, page
from ..i18n import translate
from ..templating import format_time
from .choices import agent_options, branch_options, chosen_branch, names_of, worker_names


@bp.route("/follow-ups")
@reads
@page
def follow_ups():
    """Overdue (oldest first) or upcoming (soonest first), by agent and (admins) branch."""
    principal = current()
    fields = query()
    filters = due.DueFilters(
        view=fields.choice("view", due.VIEWS, "overdue") or "overdue",
        agent_id=fields.identifier("agent"),
        branch_id=chosen_branch(fields, principal),
    )
    limit, cursor = fields.limit(), fields.cursor()
    fields.check()
    now = now_ms()
    result = due.list_due(db.session, principal=principal, filters=filters, now=now, limit=limit, cursor=cursor)
    return render_template(
        "follow_ups.html",
        items=result.items,
        page=result,
        filters=filters,
        agents=agent_options(principal),
        branches=branch_options(principal),
        names=names_of(f.assigned_agent_id for f in result.items),
        workers=worker_names(principal, (f.worker_id for f in result.items)),
        now=now,
    )


@bp.route("/follow-ups/<string:follow_up_id>")
@reads
@page
def follow_up(follow_up_id: str):
    """One follow-up with the reassign and reschedule forms."""
    principal = current()
    item = manage.get_follow_up(db.session, principal=principal, follow_up_id=follow_up_id)
    return render_template(
        "follow_up.html",
        item=item,
        agents=agent_options(principal, active_only=True),
        names=names_of([item.assigned_agent_id]),
        workers=worker_names(principal, [item.worker_id]),
        zone=branch_zone(db.session, item.branch_id),
        now=now_ms(),
    )


@bp.route("/follow-ups/<string:follow_up_id>/reassign", methods=["POST"])
@writes
@page
def reassign(follow_up_id: str):
    """Give the follow-up to another active agent of the branch (it moves between their phones)."""
    principal = current()
    fields = form()
    agent_id = fields.identifier("agent", required=True)
    fields.check()
    item = manage.get_follow_up(db.session, principal=principal, follow_up_id=follow_up_id)
    here = url_for("web.follow_up", follow_up_id=follow_up_id)
    names = names_of([item.assigned_agent_id, agent_id])
    if not confirmed():
        details = [
            (translate("follow_ups.from_agent"), names.get(item.assigned_agent_id or "", "—")),
            (translate("follow_ups.to_agent"), names.get(agent_id or "", agent_id or "—")),
        ]
        return confirm_page(translate("follow_ups.confirm_reassign"), details, here)
    manage.change_follow_up(
        db.session, principal=principal, follow_up_id=follow_up_id, changes={"assigned_agent_id": agent_id}
    )
    return done("follow_ups.done_reassign", url_for("web.follow_ups"), agent=names.get(agent_id or "", agent_id))


@bp.route("/follow-ups/<string:follow_up_id>/reschedule", methods=["POST"])
@writes
@page
def reschedule(follow_up_id: str):
    """Move the due time (read in the follow-up's branch's time zone; it snaps into working hours)."""
    principal = current()
    item = manage.get_follow_up(db.session, principal=principal, follow_up_id=follow_up_id)
    zone = branch_zone(db.session, item.branch_id)
    fields = form()
    due_at = fields.local_time("due_at", zone, required=True)
    if due_at is not None and due_at < now_ms():
        fields.fail("due_at", "error.past")
    fields.check()
    here = url_for("web.follow_up", follow_up_id=follow_up_id)
    if not confirmed():
        details = [
            (translate("follow_ups.due"), format_time(item.due_at, zone)),
            (translate("follow_ups.new_due"), format_time(due_at, zone)),
        ]
        return confirm_page(translate("follow_ups.confirm_reschedule"), details, here)
    changed = manage.change_follow_up(
        db.session, principal=principal, follow_up_id=follow_up_id, changes={"due_at": due_at}
    )
    return done("follow_ups.done_reschedule", here, when=format_time(changed.due_at, zone))
