"""Contest periods and their targets (``sync.contest.periods``): list, create, change, each confirmed.

Targets are typed as lines ``CODE=number`` (as ``jangkau create-period --target``); on a change a line
``CODE=`` removes that branch's target, and branches not named keep theirs.
"""

from __future__ import annotations

import re

from flask import render_template, url_for

from sync.calendar.workdays import DEFAULT_ZONE, ZONES
from sync.contest import periods

from ....extensions import db
from ....unit_of_work import reads, writes
from ... import bp
from ...forms import Fields, confirm_page, confirmed, done, form, query
from ...guard import admin_page, current
from ...i18n import translate
from ..choices import branch_codes_by_id, branch_ids_by_code

TARGET_LINE = re.compile(r"^\s*([A-Z0-9][A-Z0-9_-]{1,63})\s*[=:]\s*(\d{0,10})\s*$")
MAX_TARGET_LINES = 5000


def parse_targets(fields: Fields, name: str = "targets") -> dict[str, int | None]:
    """``{branch id: target or None}`` from the lines of a textarea; each bad line is named."""
    text = fields.text(name, max_len=200_000) or ""
    lines = [line for line in text.splitlines() if line.strip()]
    if len(lines) > MAX_TARGET_LINES:
        fields.fail(name, "error.too_many_lines", max=MAX_TARGET_LINES)
        return {}
    by_code: dict[str, int | None] = {}
    for number, line in enumerate(lines, start=1):
        match = TARGET_LINE.match(line)
        if match is None:
            fields.fail(name, "admin.target_line", line=number)
            continue
        by_code[match.group(1)] = int(match.group(2)) if match.group(2) else None
    ids = branch_ids_by_code(by_code)
    for code in sorted(set(by_code) - set(ids)):
        fields.fail(name, "admin.unknown_branch", code=code)
    return {ids[code]: value for code, value in by_code.items() if code in ids}


def _period_fields(fields: Fields) -> dict:
    values = {
        "name": fields.text("name", required=True, max_len=200),
        "starts_on": fields.day("starts_on"),
        "ends_on": fields.day("ends_on"),
        "timezone": fields.choice("timezone", ZONES, DEFAULT_ZONE),
    }
    for name in ("starts_on", "ends_on"):
        if values[name] is None and name not in fields.errors:
            fields.fail(name, "error.required")
    return values


def _targets_text(period_id: str) -> str:
    """The period's targets as the lines the form takes back, by branch code."""
    targets = periods.targets_of(db.session, [period_id])[period_id]
    codes = branch_codes_by_id(targets)
    return "\n".join(sorted(f"{codes[b]}={value}" for b, value in targets.items() if b in codes))


@bp.route("/admin/periods")
@reads
@admin_page
def admin_periods():
    """Periods, latest first, and the form for a new one."""
    fields = query()
    limit, cursor = fields.limit(), fields.cursor()
    fields.check()
    result = periods.list_periods(db.session, limit=limit, cursor=cursor)
    return render_template("admin/periods.html", items=result.items, page=result, zones=ZONES)


@bp.route("/admin/periods", methods=["POST"])
@writes
@admin_page
def create_period():
    """Create a period (whole days in its zone, never overlapping another) with its targets."""
    fields = form()
    values = _period_fields(fields)
    targets = parse_targets(fields)
    fields.check()
    if not confirmed():
        details = [
            (translate("admin.period_name"), values["name"]),
            (translate("admin.days"), f"{values['starts_on']} – {values['ends_on']} ({values['timezone']})"),
            (translate("leaderboard.target"), translate("admin.targets_count", n=len(targets))),
        ]
        return confirm_page(translate("admin.confirm_period"), details, url_for("web.admin_periods"))
    period = periods.create_period(db.session, **values, targets=targets, created_by=current().user_id)
    return done("admin.done_period", url_for("web.leaderboard", period=period.id), name=period.name)


@bp.route("/admin/periods/<string:period_id>")
@reads
@admin_page
def admin_period(period_id: str):
    """One period's form: name, days, zone, targets."""
    period = periods.get_period(db.session, period_id)
    return render_template("admin/period.html", period=period, targets=_targets_text(period.id), zones=ZONES)


@bp.route("/admin/periods/<string:period_id>", methods=["POST"])
@writes
@admin_page
def change_period(period_id: str):
    """Change a period; targets are merged (a ``CODE=`` line removes one)."""
    period = periods.get_period(db.session, period_id)
    fields = form()
    values = _period_fields(fields)
    targets = parse_targets(fields)
    fields.check()
    if not confirmed():
        details = [(translate("admin.period_name"), values["name"] or "")]
        return confirm_page(
            translate("admin.confirm_period_change"), details, url_for("web.admin_period", period_id=period.id)
        )
    periods.update_period(db.session, period.id, {**values, "targets": targets})
    return done("admin.done_period_change", url_for("web.admin_period", period_id=period.id), name=values["name"])
