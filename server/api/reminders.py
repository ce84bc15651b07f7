"""Reminders (docs/api.md, §6): supervisors' messages, the outbox with retry, and the gateway's STOP hook."""

from __future__ import annotations

from functools import wraps

from flask import current_app, request
from flask_smorest import Blueprint

from schemas.reminders import (
    OptOutResultSchema,
    OptOutSchema,
    ReminderCreateSchema,
    ReminderListArgsSchema,
    ReminderPageSchema,
    ReminderSchema,
)
from sync.errors import AuthError
from sync.pii import mask_phone
from sync.protocol.clock import now_ms
from sync.reminders import manage
from sync.reminders.channels import SIGNATURE_HEADER, TIMESTAMP_HEADER, fresh, parse_timestamp, verify

from ..auth import auth_required, current_principal
from ..bodies import check_nul_in_body
from ..config import engine_settings
from ..extensions import db
from ..pii import protector
from ..unit_of_work import reads, writes

blp = Blueprint("reminders", __name__, url_prefix="/api/v1", description="Reminders and their dispatch")


@blp.route("/reminders", methods=["POST"])
@writes
@blp.arguments(ReminderCreateSchema)
@blp.response(201, ReminderSchema)
@blp.alt_response(404, description="The agent or worker is outside the caller's scope")
@auth_required("supervisor", "admin")
def create_reminder(args):
    """A message to one of the caller's agents or workers, dispatched like every reminder."""
    return manage.send_message(db.session, principal=current_principal(), values=args, now=now_ms())


@blp.route("/reminders")
@reads
@blp.arguments(ReminderListArgsSchema, location="query")
@blp.response(200, ReminderPageSchema)
@auth_required("supervisor", "admin")
def list_reminders(args):
    """Reminders of the caller's branch (admins: all), newest first; ``status=dead`` lists what gave up."""
    page = manage.list_reminders(db.session, principal=current_principal(), **args)
    return {"items": page.items, "next_cursor": page.next_cursor}


@blp.route("/reminders/<string:reminder_id>/retry", methods=["POST"])
@writes
@blp.response(200, ReminderSchema)
@blp.alt_response(404, description="No such reminder in the caller's scope")
@blp.alt_response(409, description="The reminder is pending or already sent")
@auth_required("supervisor", "admin")
def retry_reminder(reminder_id: str):
    """Put a failed, dead or cancelled reminder back in the outbox with a fresh attempt count."""
    return manage.retry(db.session, principal=current_principal(), reminder_id=reminder_id, now=now_ms())


def _gateway_authenticated() -> None:
    """The gateway signs ``<timestamp>.<body>`` with the webhook secret (recipe: ``sync.reminders.channels``).

    Send ``X-Jangkau-Timestamp: <Unix seconds>`` and ``X-Jangkau-Signature: sha256=<hex HMAC-SHA256,
    keyed with the secret, of the timestamp's digits, ".", and the body bytes as sent>``. The timestamp
    must be within 5 minutes of the server's clock: a captured request cannot be replayed later.
    Anything else (no secret configured, a header missing, malformed or with non-ASCII bytes, a stale
    timestamp, a wrong signature) is 401, decided before the body is looked at.
    """
    secret = engine_settings(current_app).dispatch.webhook_secret
    raw_timestamp = request.headers.get(TIMESTAMP_HEADER)
    timestamp = parse_timestamp(raw_timestamp)
    if timestamp is None or not fresh(timestamp):
        raise AuthError(
            "send X-Jangkau-Timestamp (Unix seconds, within 5 minutes) and sign it with the body",
            errors={TIMESTAMP_HEADER: ["missing, malformed or more than 5 minutes away from the server's clock"]},
        )
    body = request.get_data(cache=True)
    if not verify(body, secret, request.headers.get(SIGNATURE_HEADER), raw_timestamp.strip()):
        raise AuthError(
            "sign the timestamp and body with the webhook secret",
            errors={SIGNATURE_HEADER: ["missing or wrong signature (sha256=<hex HMAC of '<timestamp>.<body>'>)"]},
        )


def gateway_signed(view):
    """Authenticate the gateway before anything else of the request (the body included) is examined."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        _gateway_authenticated()
        check_nul_in_body()
        return view(*args, **kwargs)

    return wrapper


@blp.route("/reminders/opt-out", methods=["POST"])
@writes
@gateway_signed
@blp.arguments(OptOutSchema)
@blp.response(200, OptOutResultSchema)
@blp.alt_response(401, description="Not signed with the webhook secret")
def opt_out(args):
    """STOP from the gateway: no more reminders to this number (only a keyed hash of it is kept).

    Signed like our webhooks: ``X-Jangkau-Timestamp`` and ``X-Jangkau-Signature`` (``sync.reminders.channels``).
    """
    e164 = manage.opt_out(db.session, pii=protector(), phone=args["phone"], now=now_ms())
    return {"opted_out": True, "phone_masked": mask_phone(e164)}
