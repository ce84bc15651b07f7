"""Branches (``sync.accounts.users``): list, create, change; each confirmed, each in the audit trail."""

from __future__ import annotations

from flask import render_template, url_for

from sync.accounts import users
from sync.errors import NotFound
from sync.models import BRANCH_KINDS, Branch

from ....extensions import db
from ....unit_of_work import reads, writes
from ... import bp
from ...forms import Fields, confirm_page, confirmed, done, form, query
from ...guard import admin_page, current
from ...i18n import translate


def _branch_fields(fields: Fields) -> dict:
    values = {
        "code": (fields.text("code", required=True, max_len=64) or "").upper(),
        "name": fields.text("name", required=True, max_len=200),
        "kind": fields.choice("kind", BRANCH_KINDS),
        "latitude": fields.number("latitude", required=True),
        "longitude": fields.number("longitude", required=True),
        "region": fields.text("region", max_len=200),
    }
    if values["kind"] is None and "kind" not in fields.errors:
        fields.fail("kind", "error.required")
    return values


def _branch(branch_id: str) -> Branch:
    branch = db.session.get(Branch, branch_id)
    if branch is None:
        raise NotFound("no such branch")
    return branch


@bp.route("/admin/branches")
@reads
@admin_page
def admin_branches():
    """Every branch by code, and the form for a new one."""
    fields = query()
    limit, cursor = fields.limit(), fields.cursor()
    fields.check()
    result = users.list_branches(db.session, principal=current(), limit=limit, cursor=cursor)
    return render_template("admin/branches.html", items=result.items, page=result, kinds=BRANCH_KINDS)


@bp.route("/admin/branches", methods=["POST"])
@writes
@admin_page
def create_branch():
    """A new branch office (code, name, KCU or KC, where it lies, its region)."""
    fields = form()
    values = _branch_fields(fields)
    fields.check()
    if not confirmed():
        details = [(translate("admin.code"), values["code"]), (translate("admin.name"), values["name"] or "")]
        return confirm_page(translate("admin.confirm_branch"), details, url_for("web.admin_branches"))
    branch = users.add_branch(db.session, principal=current(), values=values)
    return done("admin.done_branch", url_for("web.admin_branches"), code=branch.code)


@bp.route("/admin/branches/<string:branch_id>")
@reads
@admin_page
def admin_branch(branch_id: str):
    """One branch's form."""
    return render_template("admin/branch.html", branch=_branch(branch_id), kinds=BRANCH_KINDS)


@bp.route("/admin/branches/<string:branch_id>", methods=["POST"])
@writes
@admin_page
def change_branch(branch_id: str):
    """Change a branch (every field of the form is sent; only what changed is recorded)."""
    branch = _branch(branch_id)
    fields = form()
    values = _branch_fields(fields)
    fields.check()
    here = url_for("web.admin_branch", branch_id=branch.id)
    if not confirmed():
        return confirm_page(translate("admin.confirm_branch_change"), [(translate("admin.code"), values["code"])], here)
    users.update_branch(db.session, principal=current(), branch_id=branch.id, changes=values)
    return done("admin.done_branch_change", here, code=values["code"])
