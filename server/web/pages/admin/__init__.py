"""The admins' pages: contest periods and targets, branches, users and the audit trail.

Each page is ``guard.admin_page``: a supervisor gets 404, as for anything outside their scope.
"""

from __future__ import annotations

from flask import render_template

from ....unit_of_work import reads
from ... import bp
from ...guard import admin_page
from . import audit, branches, periods, users  # noqa: F401 - attach routes to ``bp``


@bp.route("/admin")
@reads
@admin_page
def admin_home():
    """Links to the admin pages."""
    return render_template("admin/home.html")
