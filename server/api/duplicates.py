"""Duplicate review (docs/api.md): the queue, merge/distinct decisions, over ``sync.enrollments.duplicates``."""

from __future__ import annotations

from flask_smorest import Blueprint

from schemas.dedup import CandidateListArgsSchema, CandidatePageSchema, CandidateSchema, ResolveSchema
from sync.enrollments.duplicates import merge as dedup_merge
from sync.enrollments.duplicates import review

from ..auth import auth_required, current_principal
from ..extensions import db
from ..unit_of_work import read_only, reads, unit_of_work

blp = Blueprint("duplicates", __name__, url_prefix="/api/v1", description="Duplicate review")


@blp.route("/duplicates")
@reads
@blp.arguments(CandidateListArgsSchema, location="query")
@blp.response(200, CandidatePageSchema)
@auth_required("supervisor", "admin")
def list_duplicates(args):
    """Candidates in the caller's scope (a supervisor: either side in their branch), newest first."""
    page = review.list_candidates(
        db.session, principal=current_principal(), status=args["status"], limit=args["limit"], cursor=args["cursor"]
    )
    return {"items": review.candidates_json(db.session, page.items), "next_cursor": page.next_cursor}


@blp.route("/duplicates/<string:candidate_id>/resolve", methods=["POST"])
@blp.arguments(ResolveSchema)
@blp.response(200, CandidateSchema)
@blp.alt_response(404, description="No such candidate in your scope")
@blp.alt_response(409, description="Already decided, or a side was merged meanwhile")
@auth_required("supervisor", "admin")
def resolve_duplicate(args, candidate_id: str):
    """Decide an open candidate: ``merge`` (one person; credits recomputed) or ``distinct`` (never proposed again).

    The decision is one unit of work; the answer is read back, as committed, in a read of its own.
    """
    principal = current_principal()
    with unit_of_work():
        candidate = review.get_candidate(db.session, principal=principal, candidate_id=candidate_id)
        if args["decision"] == "merge":
            dedup_merge.merge(db.session, candidate=candidate, principal=principal, note=args["note"])
        else:
            dedup_merge.mark_distinct(db.session, candidate=candidate, principal=principal, note=args["note"])
    with read_only():
        candidate = review.get_candidate(db.session, principal=principal, candidate_id=candidate_id)
        return review.candidates_json(db.session, [candidate])[0]
