"""Workers (docs/api.md): one person with all its enrolments, and undoing a merge."""

from __future__ import annotations

from flask_smorest import Blueprint

from schemas.dedup import UnmergeResultSchema, UnmergeSchema, WorkerDetailSchema
from sync.enrollments.duplicates import merge as dedup_merge
from sync.enrollments.duplicates import review

from ..auth import auth_required, current_principal
from ..extensions import db
from ..pii import protector
from ..unit_of_work import writes

blp = Blueprint("workers", __name__, url_prefix="/api/v1", description="Workers (canonical people)")


@blp.route("/workers/<string:worker_id>")
@writes  # a read that writes: an admin's view of the full NIK is logged
@blp.response(200, WorkerDetailSchema)
@blp.alt_response(404, description="No such worker in your scope")
@auth_required()
def get_worker(worker_id: str):
    """The person and its enrolments, masked; admins also get the full NIK, and that view is logged."""
    return review.worker_detail(db.session, principal=current_principal(), worker_id=worker_id, pii=protector())


@blp.route("/workers/<string:worker_id>/unmerge", methods=["POST"])
@writes
@blp.arguments(UnmergeSchema, required=False)
@blp.response(200, UnmergeResultSchema)
@blp.alt_response(404, description="No merge of this worker in your scope")
@auth_required("supervisor", "admin")
def unmerge_worker(args, worker_id: str):
    """Undo the latest merge into or out of this worker (or ``merge_id``): the state before it comes back.

    Whoever may see the merge's survivor may undo it (``sync.accounts.scope.merges``).
    """
    principal = current_principal()
    args = args or {}
    merge_row = review.merge_to_undo(db.session, principal, worker_id, args.get("merge_id"))
    restored = dedup_merge.unmerge(
        db.session, merge_row=merge_row, principal=principal, pii=protector(), note=args.get("note")
    )
    return {
        "merge_id": merge_row.id,
        "survivor_worker_id": merge_row.survivor_worker_id,
        "restored_worker_ids": restored,
    }
