"""The branch contest (docs/api.md "Contest"): periods and targets, the leaderboard, its agent ranking and CSV.

Thin views over ``sync.contest``. Supervisors and admins read; only admins write periods. The branch
table is counts only, so every supervisor reads every branch; the agent ranking is scoped (a supervisor
reads their own branch, another is 404).
"""

from __future__ import annotations

import json

from flask import Response
from flask_smorest import Blueprint

from schemas.contest import (
    AgentLeaderboardArgsSchema,
    AgentLeaderboardSchema,
    LeaderboardArgsSchema,
    LeaderboardSchema,
    PeriodCreateSchema,
    PeriodPageSchema,
    PeriodPatchSchema,
    PeriodSchema,
)
from schemas.pagination import ListArgsSchema
from sync.contest import export, leaderboard, periods

from ..auth import auth_required, current_principal
from ..extensions import db
from ..unit_of_work import reads, writes

blp = Blueprint("contest", __name__, url_prefix="/api/v1", description="Contest periods and the leaderboard")

READERS = ("supervisor", "admin")


def _period(period) -> dict:
    return periods.period_json(period, periods.targets_of(db.session, [period.id])[period.id])


def _json(body: dict) -> Response:
    """A large table serialised once, compactly (the schema above documents it)."""
    return Response(json.dumps(body, separators=(",", ":")), mimetype="application/json")


@blp.route("/contest/periods")
@reads
@blp.arguments(ListArgsSchema, location="query")
@blp.response(200, PeriodPageSchema)
@auth_required(*READERS)
def list_periods(args):
    """Contest periods, latest start first, with their targets."""
    page = periods.list_periods(db.session, limit=args["limit"], cursor=args["cursor"])
    targets = periods.targets_of(db.session, [p.id for p in page.items])
    return {"items": [periods.period_json(p, targets[p.id]) for p in page.items], "next_cursor": page.next_cursor}


@blp.route("/contest/periods", methods=["POST"])
@writes
@blp.arguments(PeriodCreateSchema)
@blp.response(201, PeriodSchema)
@auth_required("admin")
def create_period(args):
    """A period of whole days in its time zone; 422 naming the field when it overlaps another or is invalid."""
    period = periods.create_period(db.session, **args, created_by=current_principal().user_id)
    return _period(period)


@blp.route("/contest/periods/<string:period_id>", methods=["PATCH"])
@writes
@blp.arguments(PeriodPatchSchema)
@blp.response(200, PeriodSchema)
@blp.alt_response(404, description="No such period")
@auth_required("admin")
def patch_period(args, period_id: str):
    """Rename, move or re-zone a period (never onto another), or change targets (null removes one)."""
    return _period(periods.update_period(db.session, period_id, args))


@blp.route("/contest/leaderboard")
@reads
@blp.arguments(LeaderboardArgsSchema, location="query")
@blp.response(200, LeaderboardSchema)
@blp.alt_response(404, description="No such period (or none yet)")
@auth_required(*READERS)
def get_leaderboard(args):
    """Every branch of a period in rank order, with growth against the previous period and targets."""
    return _json(leaderboard.branch_leaderboard(db.session, period_id=args["period_id"], as_of=args["as_of"]))


@blp.route("/contest/leaderboard/agents")
@reads
@blp.arguments(AgentLeaderboardArgsSchema, location="query")
@blp.response(200, AgentLeaderboardSchema)
@blp.alt_response(404, description="No such period, or a branch outside your scope")
@auth_required(*READERS)
def get_agent_leaderboard(args):
    """One branch's agents ranked like the branches (a supervisor's own branch; admins name one)."""
    board = leaderboard.agent_leaderboard(
        db.session,
        principal=current_principal(),
        branch_id=args["branch_id"],
        period_id=args["period_id"],
        as_of=args["as_of"],
    )
    return _json(board)


@blp.route("/contest/leaderboard.csv")
@reads
@blp.arguments(LeaderboardArgsSchema, location="query")
@blp.response(200, content_type="text/csv", description="The branch table: a header row, one row per branch")
@blp.alt_response(404, description="No such period (or none yet)")
@auth_required(*READERS)
def get_leaderboard_csv(args):
    """The branch table as CSV (text cells starting with = + - @ are prefixed with ')."""
    board = leaderboard.branch_leaderboard(db.session, period_id=args["period_id"], as_of=args["as_of"])
    return Response(
        export.leaderboard_csv(board),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{export.csv_filename(board)}"'},
    )
