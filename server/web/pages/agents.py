"""Agen: each agent's activity and quality over a window (``sync.workspace.activity``), their devices
with revoke (``sync.accounts.auth.revoke_device``), confirmed first."""

from __future__ import annotations

from flask import current_app, render_template, url_for

from sync.accounts import devices as account_devices
from sync.accounts import users
from sync.protocol.clock import now_ms
from sync.workspace import activity, windows

from ...config import engine_settings
from ...extensions import db
from ...unit_of_work import reads, writes
from .. import bp
from ..forms import Fields, confirm_page, confirmed, done, form, query
from ..guard import current, page
from ..i18n import translate
from ..templating import viewer_zone
from .accounts import new_user_values, reset_password
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
    return engine_settings(current_app).dispatch.missed_grace_ms


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
    account_devices.revoke(db.session, principal=principal, device_id=device.id)
    return done("agents.done_revoke", back)


@bp.route("/devices/<string:device_id>/restore", methods=["POST"])
@writes
@page
def restore_device(device_id: str):
    """Let a revoked device log in again (its old tokens stay revoked: the agent signs in anew)."""
    principal = current()
    device = activity.get_device(db.session, principal=principal, device_id=device_id)
    back = url_for("web.agent", agent_id=device.user_id)
    if not confirmed():
        details = [(translate("agents.device"), device.name or device.client_device_id)]
        return confirm_page(translate("agents.confirm_restore"), details, back)
    account_devices.restore(db.session, principal=principal, device_id=device.id)
    return done("agents.done_restore", back)


@bp.route("/agents/new")
@reads
@page
def new_agent():
    """The form for a new agent (a supervisor's branch; an admin picks one)."""
    return render_template("agent_new.html", branches=branch_options(current()))


@bp.route("/agents/new", methods=["POST"])
@writes
@page
def create_agent():
    """Create an agent account; the supervisor tells the agent the password, the phone logs in with it."""
    principal = current()
    fields = form()
    values = new_user_values(fields, role="agent")
    fields.check()
    if not confirmed():
        details = [
            (translate("login.username"), values["username"]),
            (translate("admin.full_name"), values["full_name"] or "—"),
        ]
        return confirm_page(translate("agents.confirm_create"), details, url_for("web.new_agent"))
    agent = users.add_user(db.session, principal=principal, values=values)
    return done("agents.done_create", url_for("web.agent", agent_id=agent.id), username=agent.username)


@bp.route("/agents/<string:agent_id>/password", methods=["POST"])
@writes
@page
def agent_password(agent_id: str):
    """Reset an agent's password (a supervisor's own agents; an admin anyone's)."""
    return reset_password(agent_id, url_for("web.agent", agent_id=agent_id))
