"""Branches (docs/api.md "Users, devices and branches"): supervisors and admins list them, admins change them."""

from __future__ import annotations

from flask_smorest import Blueprint

from schemas.admin import BranchCreateSchema, BranchPageSchema, BranchPatchSchema, BranchSchema
from schemas.pagination import ListArgsSchema
from sync.accounts import users

from ..auth import auth_required, current_principal
from ..extensions import db
from ..unit_of_work import reads, writes

blp = Blueprint("branches", __name__, url_prefix="/api/v1", description="Branch offices")


@blp.route("/branches")
@reads
@blp.arguments(ListArgsSchema, location="query")
@blp.response(200, BranchPageSchema)
@auth_required("supervisor", "admin")
def list_branches(args):
    """Every branch, by code."""
    page = users.list_branches(db.session, principal=current_principal(), limit=args["limit"], cursor=args["cursor"])
    return {"items": [users.branch_json(b) for b in page.items], "next_cursor": page.next_cursor}


@blp.route("/branches", methods=["POST"])
@writes
@blp.arguments(BranchCreateSchema)
@blp.response(201, BranchSchema)
@auth_required("admin")
def create_branch(args):
    """Create a branch office (code unique, location within Indonesia)."""
    return users.branch_json(users.add_branch(db.session, principal=current_principal(), values=args))


@blp.route("/branches/<string:branch_id>", methods=["PATCH"])
@writes
@blp.arguments(BranchPatchSchema)
@blp.response(200, BranchSchema)
@blp.alt_response(404, description="No such branch")
@auth_required("admin")
def patch_branch(args, branch_id: str):
    """Change a branch's code, name, kind, location or region."""
    return users.branch_json(
        users.update_branch(db.session, principal=current_principal(), branch_id=branch_id, changes=args)
    )
