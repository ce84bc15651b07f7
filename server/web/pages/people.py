"""A person's page: their enrolments and every merge into or out of them, with unmerge (confirmed first)."""

from __future__ import annotations

from flask import render_template, url_for

from sync.enrollments.duplicates import merge as dedup_merge
from sync.enrollments.duplicates import review
from sync.workspace import people

from ...extensions import db
from ...pii import protector
from ...unit_of_work import reads, writes
from .. import bp
from ..forms import confirm_page, confirmed, done, form
from ..guard import current, page
from ..i18n import translate
from .choices import names_of


@bp.route("/people/<string:worker_id>")
@reads
@page
def person(worker_id: str):
    """The person (masked), their enrolments in scope and their merges, newest first."""
    history = people.history(db.session, principal=current(), worker_id=worker_id)
    agents = names_of(e.agent_id for e in history.enrollments)
    return render_template("person.html", history=history, agents=agents)


@bp.route("/people/<string:worker_id>/unmerge", methods=["POST"])
@writes
@page
def unmerge(worker_id: str):
    """Undo a merge of this person (``merge_id``, default the latest): the state before it comes back."""
    principal = current()
    fields = form()
    merge_id = fields.identifier("merge_id")
    note = fields.text("note")
    fields.check()
    merge_row = review.merge_to_undo(db.session, principal, worker_id, merge_id)
    here = url_for("web.person", worker_id=worker_id)
    if not confirmed():
        details = [(translate("people.merge"), merge_row.id), (translate("form.note"), note or "—")]
        return confirm_page(translate("people.confirm_unmerge"), details, here, danger=True)
    dedup_merge.unmerge(db.session, merge_row=merge_row, principal=principal, pii=protector(), note=note)
    return done("people.done_unmerge", here)
