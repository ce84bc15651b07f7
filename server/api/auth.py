"""Login, logout and the current user (docs/api.md); device routes are in ``devices``."""

from __future__ import annotations

from flask_smorest import Blueprint

from schemas.auth import LoginSchema, TokenSchema, UserSchema
from sync.accounts import auth as sync_auth
from sync.errors import AuthError
from sync.models import User

from .. import login_audit
from ..auth import auth_required, begin_login, current_principal
from ..extensions import db
from ..unit_of_work import reads, writes

blp = Blueprint("auth", __name__, url_prefix="/api/v1", description="Authentication")


def user_json(user: User) -> dict:
    return {
        "id": user.id,
        "username": user.username,
        "role": user.role,
        "branch_id": user.branch_id,
        "full_name": user.full_name,
    }


@blp.route("/auth/login", methods=["POST"])
@writes
@blp.arguments(LoginSchema)
@blp.response(200, TokenSchema)
@blp.alt_response(401, description="Invalid credentials")
@blp.alt_response(429, description="Too many attempts")
def login(args):
    """Exchange a password for a bearer token bound to one device.

    Failed attempts are limited per username and client IP, per client IP, and per username (429 with
    ``Retry-After``); the per-username limit never refuses a device this user already logged in from.
    """
    attempt = begin_login(args["username"], args["device_id"])  # counted in a side transaction of its own
    try:
        token, record, user = sync_auth.login(
            db.session,
            username=args["username"],
            password=args["password"],
            device_id=args["device_id"],
            device_name=args["device_name"],
        )
    except AuthError:
        login_audit.failed(args["username"], via="api")
        raise
    login_audit.succeeded(user, record, via="api")
    attempt.succeeded()
    return {"token": token, "token_type": "Bearer", "expires_at": record.expires_at, "user": user_json(user)}


@blp.route("/auth/logout", methods=["POST"])
@writes
@blp.response(204)
@auth_required()
def logout():
    """Revoke the token used for this request."""
    sync_auth.logout(db.session, current_principal())


@blp.route("/me")
@reads
@blp.response(200, UserSchema)
@auth_required()
def me():
    """The user behind the token."""
    return user_json(db.session.get(User, current_principal().user_id))
