"""The audit trail (``sync.audit``): newest first, filtered by actor, action and days."""

from __future__ import annotations

from flask import render_template

from sync import audit
from sync.workspace import windows

from ....extensions import db
from ....unit_of_work import reads
from ... import bp
from ...forms import query
from ...guard import admin_page, current
from ...templating import label, viewer_zone


@bp.route("/admin/audit")
@reads
@admin_page
def admin_audit():
    """Who did what, to which record, when."""
    fields = query()
    first, last = fields.day("from"), fields.day("to")
    filters = audit.AuditFilters(
        actor_id=fields.identifier("actor"),
        action=fields.choice("action", audit.ACTIONS),
        date_from=windows.days(first, first, viewer_zone()).start if first else None,
        date_to=windows.days(last, last, viewer_zone()).end - 1 if last else None,
    )
    limit, cursor = fields.limit(), fields.cursor()
    fields.check()
    result = audit.list_entries(db.session, principal=current(), filters=filters, limit=limit, cursor=cursor)
    return render_template(
        "admin/audit.html",
        entries=audit.entries_json(result.items),
        page=result,
        filters=filters,
        actions=[(action, label("audit", action)) for action in audit.ACTIONS],
    )
