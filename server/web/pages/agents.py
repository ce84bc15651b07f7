"""Agen: each agent's activity and quality over a window (``sync.workspace.activity``), their devices
with revoke (``sync.accounts.auth.revoke_device``), confirmed first."""

from __future__ import annotations

from flask import current_app, render_template, url_for

from sync.accounts import auth as sync_auth
from sync.protocol.clock import now_ms
from sync.workspace import activity, windows

from ...extensions import db
from ...scheduler import dispatch_settings
from ...unit_of_work import reads, writes
from .. import bp
from ..forms import Fields, confirm_page, confirmed, done, query
from ..guard import current, page
from ..i18n import translate
from ..templating import viewer_zone
from .choices import branch_options, chosen_branch


def _window(fields: Fields) -> windows.Window:
    """The days asked for (``from``, ``to``), this month by default, in the reader's time zone."""
    tz = viewer_zone()
    month = windows.month(now_ms(), tz)
    first, last = fields.day("from") or month.first, fields.day("to") or month.last
    if last < first:
        fields.fail("to", "error.range")
        return month
    if (last - first).days > 366:
        fields.fail("to", "error.range_long")
        return month
    return windows.days(first, last, tz)


def _grace_ms() -> int:
    """A follow-up done within this after its due time was done on time (the scheduler's missed grace)."""
    return dispatch_settings(current_app.config).missed_grace_ms


@bp.route("/agents")
@reads
@page
def agents():
    """Agents in scope with their figures over the window, filterable by name, state and (admins) branch."""
    principal = current()
    fields = query()
    filters = activity.AgentFilters(
        branch_id=chosen_branch(fields, principal),
        text=fields.text("q", max_len=100),
        active=fields.choice("active", activity.ACTIVE_CHOICES, "active") or "active",
    )
    window = _window(fields)
    limit, cursor = fields.limit(), fields.cursor()
    fields.check()
    result = activity.list_agents(db.session, principal=principal, filters=filters, limit=limit, cursor=cursor)
    figures = activity.activity(
        db.session, principal=principal, agent_ids=[a.id for a in result.items], window=window, grace_ms=_grace_ms()
    )
    return render_template(
        "agents.html",
        agents=result.items,
        figures=figures,
        page=result,
        filters=filters,
        window=window,
        window_args={"from": window.first.isoformat(), "to": window.last.isoformat()},
        branches=branch_options(principal),
    )


@bp.route("/agents/<string:agent_id>")
@reads
@page
def agent(agent_id: str):
    """One agent: figures over the window and the devices the caller may revoke."""
    principal = current()
    fields = query()
    window = _window(fields)
    fields.check()
    user = activity.get_agent(db.session, principal=principal, agent_id=agent_id)
    figures = activity.activity(
        db.session, principal=principal, agent_ids=[user.id], window=window, grace_ms=_grace_ms()
    )[user.id]
    devices = activity.devices(db.session, principal=principal, user_id=user.id)
    return render_template("agent.html", agent=user, figures=figures, window=window, devices=devices)


@bp.route("/devices/<string:device_id>/revoke", methods=["POST"])
@writes
@page
def revoke_device(device_id: str):
    """Revoke a device and every token bound to it: the phone must log in again (and cannot: it is revoked)."""
    principal = current()
    device = activity.get_device(db.session, principal=principal, device_id=device_id)
    back = url_for("web.agent", agent_id=device.user_id)
    if not confirmed():
        details = [(translate("agents.device"), device.name or device.client_device_id)]
        return confirm_page(translate("agents.confirm_revoke"), details, back, danger=True)
    sync_auth.revoke_device(db.session, principal=principal, device_id=device.id)
    return done("agents.done_revoke", back)
