"""Follow-ups (docs/api.md): list (``status``, ``overdue``), create, and PATCH to reassign or reschedule."""

from __future__ import annotations

from flask_smorest import Blueprint

from schemas.follow_ups import (
    FollowUpCreateSchema,
    FollowUpListArgsSchema,
    FollowUpPageSchema,
    FollowUpPatchSchema,
    FollowUpSchema,
)
from sync.follow_ups import manage
from sync.models import FollowUp
from sync.protocol.clock import now_ms

from ..auth import auth_required, current_principal
from ..extensions import db
from ..unit_of_work import reads, writes

blp = Blueprint("follow_ups", __name__, url_prefix="/api/v1", description="Follow-ups")
FIELDS = tuple(name for name in FollowUpSchema().fields if name != "overdue")


def follow_up_json(follow_up: FollowUp, now: int) -> dict:
    body = {name: getattr(follow_up, name) for name in FIELDS}
    body["overdue"] = bool(
        follow_up.status in manage.OPEN_STATUSES and follow_up.due_at is not None and follow_up.due_at < now
    )
    return body


@blp.route("/follow-ups")
@reads
@blp.arguments(FollowUpListArgsSchema, location="query")
@blp.response(200, FollowUpPageSchema)
@auth_required()
def list_follow_ups(args):
    """Follow-ups in the caller's scope, most recently changed first."""
    now = now_ms()
    page = manage.list_follow_ups(db.session, principal=current_principal(), now=now, **args)
    return {"items": [follow_up_json(f, now) for f in page.items], "next_cursor": page.next_cursor}


@blp.route("/follow-ups", methods=["POST"])
@writes
@blp.arguments(FollowUpCreateSchema)
@blp.response(201, FollowUpSchema)
@auth_required("supervisor", "admin")
def create_follow_up(args):
    """Plan a follow-up for an agent of the caller's branch; it reaches the agent's phone on the next pull."""
    follow_up = manage.create_follow_up(db.session, principal=current_principal(), values=args)
    return follow_up_json(follow_up, now_ms())


@blp.route("/follow-ups/<string:follow_up_id>", methods=["PATCH"])
@writes
@blp.arguments(FollowUpPatchSchema)
@blp.response(200, FollowUpSchema)
@blp.alt_response(404, description="No such follow-up in the caller's scope")
@auth_required("supervisor", "admin")
def patch_follow_up(args, follow_up_id: str):
    """Reassign (a deletion on the old agent's phone, a creation on the new one's) or reschedule."""
    principal = current_principal()
    follow_up = manage.change_follow_up(db.session, principal=principal, follow_up_id=follow_up_id, changes=args)
    return follow_up_json(follow_up, now_ms())
