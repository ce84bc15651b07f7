"""Duplikat: the review queue, one pair side by side (differing fields marked, score and reasons), and
the merge or distinct decision (``sync.enrollments.duplicates``), each confirmed first."""

from __future__ import annotations

from flask import render_template, url_for

from sync.enrollments.duplicates import merge as dedup_merge
from sync.enrollments.duplicates import review

from ...extensions import db
from ...unit_of_work import reads, writes
from .. import bp
from ..forms import confirm_page, confirmed, done, form, query
from ..guard import current, page
from ..i18n import translate
from .choices import names_of

STATUSES = ("open", "merged", "distinct")
DECISIONS = ("merge", "distinct")
# The rows of the side-by-side table: (field, message key). Personal numbers are masked by the engine.
COMPARED = (
    ("full_name", "person.full_name"),
    ("nik_masked", "person.nik"),
    ("birth_date", "person.birth_date"),
    ("sex", "person.sex"),
    ("phone_masked", "person.phone"),
    ("occupation", "person.occupation"),
    ("village", "person.village"),
)
ENROLMENT_ONLY = (("agent_id", "person.agent"), ("status", "person.status"), ("server_created_at", "person.received"))


def side_by_side(item: dict) -> list[dict]:
    """One row per compared field: both values and whether they differ (the page highlights those)."""
    left = item["enrollment"] or {}
    right = item["other_enrollment"] or item["other_worker"] or {}
    rows = []
    for name, key in COMPARED + ENROLMENT_ONLY:
        a, b = left.get(name), right.get(name)
        rows.append({"field": name, "label": translate(key), "left": a, "right": b, "differs": a != b})
    return rows


@bp.route("/duplicates")
@reads
@page
def duplicates():
    """The queue: open pairs first (newest first); ``status`` also lists merged and distinct ones."""
    fields = query()
    status = fields.choice("status", STATUSES, "open")
    limit, cursor = fields.limit(), fields.cursor()
    fields.check()
    result = review.list_candidates(db.session, principal=current(), status=status, limit=limit, cursor=cursor)
    items = review.candidates_json(db.session, result.items)
    agents = names_of(
        e["agent_id"] for item in items for e in (item["enrollment"], item["other_enrollment"]) if e is not None
    )
    return render_template("duplicates.html", items=items, page=result, status=status, statuses=STATUSES, agents=agents)


@bp.route("/duplicates/<string:candidate_id>")
@reads
@page
def duplicate(candidate_id: str):
    """One pair, side by side, with the decision form (open) or the decision taken."""
    candidate = review.get_candidate(db.session, principal=current(), candidate_id=candidate_id)
    (item,) = review.candidates_json(db.session, [candidate])
    rows = side_by_side(item)
    sides = (item["enrollment"], item["other_enrollment"])
    people = names_of([item["decided_by"], *(side["agent_id"] for side in sides if side)])
    return render_template("duplicate.html", item=item, rows=rows, people=people)


@bp.route("/duplicates/<string:candidate_id>/resolve", methods=["POST"])
@writes
@page
def resolve(candidate_id: str):
    """Merge the pair into one person or mark them distinct (a note is required to call them distinct)."""
    principal = current()
    fields = form()
    decision = fields.choice("decision", DECISIONS)
    note = fields.text("note", required=decision == "distinct")
    if decision is None:
        fields.fail("decision", "error.required")
    fields.check()
    candidate = review.get_candidate(db.session, principal=principal, candidate_id=candidate_id)
    here = url_for("web.duplicate", candidate_id=candidate_id)
    if not confirmed():
        details = [(translate("duplicates.score"), f"{candidate.score:.2f}"), (translate("form.note"), note or "—")]
        return confirm_page(translate(f"duplicates.confirm_{decision}"), details, here, danger=decision == "merge")
    if decision == "merge":
        dedup_merge.merge(db.session, candidate=candidate, principal=principal, note=note)
    else:
        dedup_merge.mark_distinct(db.session, candidate=candidate, principal=principal, note=note)
    return done(f"duplicates.done_{decision}", url_for("web.duplicates"))
