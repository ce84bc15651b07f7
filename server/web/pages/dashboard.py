"""Beranda: the branch dashboard (``sync.workspace.dashboard``), with its two charts drawn by Chart.js."""

from __future__ import annotations

from flask import redirect, render_template, url_for

from sync.calendar import workdays
from sync.contest import leaderboard as contest
from sync.contest import periods as contest_periods
from sync.errors import NotFound
from sync.follow_ups.rules import branch_zone
from sync.protocol.clock import now_ms
from sync.protocol.statuses import EnrollmentStatus
from sync.workspace import dashboard as dashboard_model
from sync.workspace import windows

from ...extensions import db
from ...unit_of_work import reads
from .. import bp
from ..forms import query
from ..guard import current, page
from ..i18n import translate
from ..templating import format_day, label, viewer_zone
from .choices import branch_options, chosen_branch

CHART_DAYS = 14
STATUSES = tuple(EnrollmentStatus)


def chart_config(summary: dashboard_model.Dashboard) -> dict:
    """The two charts' data and labels, for dashboard.js (which holds no string of its own)."""
    return {
        "visitsPerDay": {
            "label": translate("dashboard.chart_visits"),
            "days": [format_day(day) for day, _ in summary.visits_per_day],
            "counts": [count for _, count in summary.visits_per_day],
        },
        "enrollmentsPerAgent": {
            "agents": [row.name for row in summary.enrollments_per_agent],
            "series": [
                {
                    "status": status.value,
                    "label": label("enrollment", status.value),
                    "counts": [row.by_status.get(status.value, 0) for row in summary.enrollments_per_agent],
                }
                for status in STATUSES
            ],
        },
    }


def this_period(now: int, tz: str) -> windows.Window:
    """The contest period running now (its days, in the branch's time zone), else this calendar month."""
    running = contest_periods.period_at(db.session, now)
    if running is not None and running.starts_at <= now < running.ends_at:
        return windows.days(running.starts_on, running.ends_on, tz)
    return windows.month(now, tz)


def contest_standing(branch_id: str | None, now: int) -> dict | None:
    """The branch's rank and pace in the current (or latest) period; none without a branch or a period."""
    if branch_id is None:
        return None
    try:
        return contest.branch_standing(db.session, branch_id=branch_id, as_of=now)
    except NotFound:  # no period yet
        return None


@bp.route("/")
@reads
@page
def home():
    return redirect(url_for("web.dashboard"))


@bp.route("/dashboard")
@reads
@page
def dashboard():
    """Today and this period in the branch, what is waiting for the supervisor, and two small charts."""
    principal = current()
    fields = query()
    branch_id = chosen_branch(fields, principal)
    fields.check()
    tz = branch_zone(db.session, branch_id) if branch_id else viewer_zone()
    tz = tz if tz in workdays.ZONES else workdays.DEFAULT_ZONE
    now = now_ms()
    period = this_period(now, tz)
    summary = dashboard_model.summary(
        db.session,
        principal=principal,
        branch_id=branch_id,
        now=now,
        tz=tz,
        today=windows.today(now, tz),
        period=period,
        chart=windows.last_days(now, tz, CHART_DAYS),
    )
    return render_template(
        "dashboard.html",
        summary=summary,
        statuses=STATUSES,
        period=period,
        branches=branch_options(principal),
        branch_id=branch_id,
        charts=chart_config(summary),
        standing=contest_standing(branch_id, now),
    )
