"""Pull and push for WatermelonDB phones (docs/sync.md): thin views over ``sync.protocol`` pull and push."""

from __future__ import annotations

import gzip
import json

from flask import Response, current_app, g, request
from flask_smorest import Blueprint
from werkzeug.exceptions import HTTPException

from schemas.sync import (
    PullArgsSchema,
    PullResponseSchema,
    PushArgsSchema,
    PushBodySchema,
    PushResponseSchema,
)
from sync.db import begin_snapshot
from sync.errors import InvalidRequest, SyncError
from sync.protocol.archive import archive_push
from sync.protocol.pull import parse_migration, pull
from sync.protocol.push import push
from sync.protocol.sanitize import printable

from ..auth import auth_required, current_principal, limit
from ..bodies import decode_body, json_body, require_object
from ..config import engine_settings
from ..extensions import db
from ..pii import protector
from ..unit_of_work import reads, side_transaction, unit_of_work

blp = Blueprint("sync", __name__, url_prefix="/api/v1/sync", description="WatermelonDB sync protocol")


def parse_millis(raw: str | None, name: str, *, first_sync_values=("", "null", "0")) -> int:
    """``null``/empty/absent/0 → 0 (a first sync); otherwise a non-negative integer of milliseconds."""
    if raw is None or raw.strip().lower() in first_sync_values:
        return 0
    try:
        value = int(raw)
    except ValueError:
        raise InvalidRequest(
            f"{name} must be an integer (ms) or null",
            errors={name: ["must be an integer number of milliseconds or null"]},
        ) from None
    if not 0 <= value < 2**53:
        raise InvalidRequest(f"{name} is out of range", errors={name: ["must be between 0 and 2^53 - 1"]})
    return value


GZIP_MIN_BYTES = 1024


def _json_response(body: dict, status: int = 200) -> Response:
    """Compact JSON, gzip-compressed (fast level) when the client accepts it: pulls are large, links slow."""
    try:
        data = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
    except UnicodeEncodeError:  # a rejected id holding a lone surrogate: echo it as a JSON escape
        data = json.dumps(body, separators=(",", ":")).encode()
    response = Response(data, status=status, mimetype="application/json")
    if len(data) >= GZIP_MIN_BYTES and "gzip" in request.accept_encodings:
        response.set_data(gzip.compress(data, compresslevel=1))
        response.headers["Content-Encoding"] = "gzip"
        response.vary.add("Accept-Encoding")
    return response


@blp.route("/pull")
@reads
@blp.arguments(PullArgsSchema, location="query")
@blp.response(200, PullResponseSchema)
@auth_required()
def pull_changes(args):
    """Everything that changed in the caller's scope since ``last_pulled_at``, in one response."""
    principal = current_principal()
    limit("sync", f"user:{principal.user_id}")
    last_pulled_at = parse_millis(args["last_pulled_at"], "last_pulled_at")
    if args["schema_version"] not in (None, "", "null"):
        parse_millis(args["schema_version"], "schema_version")
    migration = parse_migration(args["migration"])
    begin_snapshot(db.session)
    body = pull(db.session, principal=principal, last_pulled_at=last_pulled_at, pii=protector(), migration=migration)
    return _json_response(body)


def _changes_of(body: object) -> object:
    """Accept ``{"changes": {...}}`` (WatermelonDB) and the bare changes object (the docs' sample)."""
    body = require_object(body)
    if "changes" in body:
        extra = set(body) - {"changes"}
        if extra:
            raise InvalidRequest("unknown top-level key", errors={printable(sorted(extra)[0]): ["unknown field"]})
        return body["changes"]
    return body


def _archive(status: int, outcome: str, stamp: int | None = None) -> None:
    """Keep the pushed body, in a side transaction after the push's own has ended (committed or not)."""
    principal = g.get("principal")
    with side_transaction("push archive"):
        archive_push(
            db.session,
            pii=protector(),
            user_id=principal.user_id if principal else None,
            device_id=principal.device_id if principal else None,
            body=g.get("raw_body") or b"",
            compressed=g.get("body_compressed", False),
            last_pulled_at=request.args.get("last_pulled_at"),
            status=status,
            outcome=outcome,
            stamp=stamp,
        )


@blp.route("/push", methods=["POST"])
@blp.arguments(PushArgsSchema, location="query")
@blp.doc(requestBody={"required": True, "content": {"application/json": {"schema": PushBodySchema}}})
@blp.response(200, PushResponseSchema)
@blp.alt_response(409, description="A pushed record changed on the server after last_pulled_at")
@blp.alt_response(413, description="Over 5,000 records or the body size limit")
@auth_required("agent")
def push_changes(args):
    """Apply the phone's local changes in one transaction; per-record results in the body.

    The push is a unit of work of its own (not ``@writes``): its body is archived once that unit has
    ended, whether it committed, was a replay (rolled back) or failed.
    """
    principal = current_principal()
    limit("sync", f"user:{principal.user_id}")  # the client IP is counted by `limit` under its own budget
    key = request.headers.get("Idempotency-Key")
    try:
        with unit_of_work() as work:
            if key is not None and not 1 <= len(key) <= 255:
                raise InvalidRequest(
                    "Idempotency-Key must be 1-255 characters", errors={"Idempotency-Key": ["must be 1-255 characters"]}
                )
            decode_body()
            last_pulled_at = parse_millis(args["last_pulled_at"], "last_pulled_at")
            changes = _changes_of(json_body())
            outcome = push(
                db.session,
                principal=principal,
                changes=changes,
                last_pulled_at=last_pulled_at,
                pii=protector(),
                idempotency_key=key,
                settings=engine_settings(current_app),  # parsed once, when the app was created
            )
            if outcome.replayed:
                work.discard()  # a replay answers from the stored response and writes nothing
    except SyncError as error:
        _archive(error.status, f"{error.code}: {error.detail}")
        raise
    except HTTPException as error:  # a body over the size limit by Content-Length (413), from werkzeug
        _archive(error.code or 500, f"http_error: {error.name}")
        raise
    except Exception as error:
        # Whatever failed, the body is kept: the agent's data must never be lost to a server fault.
        _archive(500, f"internal_error: {type(error).__name__}")
        raise
    _archive(outcome.status, "replayed" if outcome.replayed else "applied", outcome.timestamp)
    return _json_response(outcome.body(), outcome.status)
