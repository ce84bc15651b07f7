"""Klasemen: the contest's branch table (``sync.contest.leaderboard``) with growth, pace and target bars,
a period picker, the agents of a branch ranked the same way, and the table as CSV.

The branch table is counts only, so every supervisor reads every branch (their own row marked); it is
computed whole, then filtered (kind, a name) and shown 50 rows a page. The agent ranking is a
supervisor's own branch, or the branch an admin picks.
"""

from __future__ import annotations

from flask import render_template

from sync.contest import leaderboard as contest
from sync.contest import periods
from sync.models import BRANCH_KINDS

from ...extensions import db
from ...unit_of_work import reads
from .. import bp
from ..forms import query
from ..guard import current, page
from .choices import branch_options

ROWS = 50
PICKER_PERIODS = 100


def filtered(items: list[dict], kind: str | None, text: str | None) -> list[dict]:
    needle = (text or "").lower()
    return [
        item
        for item in items
        if (kind is None or item["kind"] == kind)
        and (not needle or any(needle in (item[k] or "").lower() for k in ("branch_code", "branch_name", "region")))
    ]


@bp.route("/leaderboard")
@reads
@page
def leaderboard():
    """The branch table of a period (default: the one running now), one page of it, and the agent ranking."""
    principal = current()
    fields = query()
    period_id = fields.identifier("period")
    kind = fields.choice("kind", BRANCH_KINDS)
    text = fields.text("q", max_len=100)
    number = fields.page_number()
    agents_of = fields.identifier("branch") if principal.is_admin else principal.branch_id
    fields.check()
    choices = periods.list_periods(db.session, limit=PICKER_PERIODS, cursor=None).items
    if not choices:
        return render_template("leaderboard.html", board=None, choices=[])
    board = contest.branch_leaderboard(db.session, period_id=period_id)
    rows = filtered(board["items"], kind, text)
    pages = max(1, -(-len(rows) // ROWS))
    mine = contest.standing(board, principal.branch_id) if principal.branch_id else None
    agents = None
    if agents_of:
        agents = contest.agent_leaderboard(
            db.session, principal=principal, branch_id=agents_of, period_id=board["period"]["id"]
        )
    return render_template(
        "leaderboard.html",
        board=board,
        choices=choices,
        rows=rows[(number - 1) * ROWS : number * ROWS],
        matching=len(rows),
        number=min(number, pages),
        pages=pages,
        kind=kind,
        kinds=[(k, k) for k in BRANCH_KINDS],
        text=text,
        mine=mine,
        agents=agents,
        branches=branch_options(principal),
        agents_of=agents_of,
    )
