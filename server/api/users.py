"""Users (docs/api.md "Users, devices and branches"): list, create, change, over ``sync.accounts.users``.

An admin manages everyone; a supervisor lists their branch's users and manages its agents only (a peer
supervisor or an admin is 404 to them); an agent gets 403. Every change is audited in its transaction.
"""

from __future__ import annotations

from flask_smorest import Blueprint

from schemas.admin import AdminUserSchema, UserCreateSchema, UserListArgsSchema, UserPageSchema, UserPatchSchema
from sync.accounts import users

from ..auth import auth_required, current_principal
from ..extensions import db
from ..unit_of_work import reads, writes

blp = Blueprint("users", __name__, url_prefix="/api/v1", description="Users (admins; supervisors: their agents)")


@blp.route("/users")
@reads
@blp.arguments(UserListArgsSchema, location="query")
@blp.response(200, UserPageSchema)
@auth_required("supervisor", "admin")
def list_users(args):
    """Users in the caller's scope by username (a supervisor: their branch), filtered by role, branch, disabled."""
    filters = users.UserFilters(role=args["role"], branch_id=args["branch_id"], disabled=args["disabled"])
    page = users.list_users(
        db.session, principal=current_principal(), filters=filters, limit=args["limit"], cursor=args["cursor"]
    )
    return {"items": [users.user_json(u) for u in page.items], "next_cursor": page.next_cursor}


@blp.route("/users", methods=["POST"])
@writes
@blp.arguments(UserCreateSchema)
@blp.response(201, AdminUserSchema)
@auth_required("supervisor", "admin")
def create_user(args):
    """Create a user; a supervisor creates agents of their own branch only (403 naming ``role``/``branch_id``)."""
    return users.user_json(users.add_user(db.session, principal=current_principal(), values=args))


@blp.route("/users/<string:user_id>", methods=["PATCH"])
@writes
@blp.arguments(UserPatchSchema)
@blp.response(200, AdminUserSchema)
@blp.alt_response(404, description="No such user among those you manage")
@auth_required("supervisor", "admin")
def patch_user(args, user_id: str):
    """Change role, branch_id, full_name, disabled, or reset the ``password``; a move revokes no token."""
    return users.user_json(users.update_user(db.session, principal=current_principal(), user_id=user_id, changes=args))
