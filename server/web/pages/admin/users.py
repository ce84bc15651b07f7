"""Users (``sync.accounts.users``): list with filters, create, change role/branch/name/state, reset a
password; each confirmed, each in the audit trail (written by the engine)."""

from __future__ import annotations

from flask import render_template, url_for

from sync.accounts import users
from sync.models import ROLES

from ....extensions import db
from ....unit_of_work import reads, writes
from ... import bp
from ...forms import confirm_page, confirmed, done, form, query
from ...guard import admin_page, current
from ...i18n import translate
from ...templating import label
from ..accounts import new_user_values, reset_password
from ..choices import branch_options

STATES = ("active", "disabled", "all")


@bp.route("/admin/users")
@reads
@admin_page
def admin_users():
    """Users by username, filtered by role, branch and state, and the form for a new one."""
    principal = current()
    fields = query()
    state = fields.choice("state", STATES, "all") or "all"
    filters = users.UserFilters(
        role=fields.choice("role", ROLES),
        branch_id=fields.identifier("branch"),
        disabled=None if state == "all" else state == "disabled",
    )
    limit, cursor = fields.limit(), fields.cursor()
    fields.check()
    result = users.list_users(db.session, principal=principal, filters=filters, limit=limit, cursor=cursor)
    return render_template(
        "admin/users.html",
        items=result.items,
        page=result,
        filters=filters,
        state=state,
        states=STATES,
        roles=[(r, label("role", r)) for r in ROLES],
        branches=branch_options(principal),
    )


@bp.route("/admin/users", methods=["POST"])
@writes
@admin_page
def create_user():
    """A new account of any role; agents and supervisors belong to a branch."""
    fields = form()
    values = new_user_values(fields)
    fields.check()
    if not confirmed():
        details = [
            (translate("login.username"), values["username"]),
            (translate("admin.role"), label("role", values["role"])),
        ]
        return confirm_page(translate("admin.confirm_user"), details, url_for("web.admin_users"))
    user = users.add_user(db.session, principal=current(), values=values)
    return done("admin.done_user", url_for("web.admin_user", user_id=user.id), username=user.username)


@bp.route("/admin/users/<string:user_id>")
@reads
@admin_page
def admin_user(user_id: str):
    """One user's form, and the password reset."""
    user = users.manageable_user(db.session, principal=current(), user_id=user_id)
    return render_template(
        "admin/user.html",
        user=user,
        roles=[(r, label("role", r)) for r in ROLES],
        branches=branch_options(current()),
    )


@bp.route("/admin/users/<string:user_id>", methods=["POST"])
@writes
@admin_page
def change_user(user_id: str):
    """Change the role, branch, name or state (a move keeps past contest credit with the old branch)."""
    principal = current()
    user = users.manageable_user(db.session, principal=principal, user_id=user_id)
    fields = form()
    changes = {
        "role": fields.choice("role", ROLES, user.role),
        "branch_id": fields.identifier("branch"),
        "full_name": fields.text("full_name", max_len=200),
        "disabled": fields.checkbox("disabled"),
    }
    fields.check()
    here = url_for("web.admin_user", user_id=user.id)
    if not confirmed():
        return confirm_page(
            translate("admin.confirm_user_change"), [(translate("login.username"), user.username)], here
        )
    users.update_user(db.session, principal=principal, user_id=user.id, changes=changes)
    return done("admin.done_user_change", here, username=user.username)


@bp.route("/admin/users/<string:user_id>/password", methods=["POST"])
@writes
@admin_page
def admin_user_password(user_id: str):
    """Reset a user's password (tell them the new one; their sessions stay until they log out)."""
    return reset_password(user_id, url_for("web.admin_user", user_id=user_id))
