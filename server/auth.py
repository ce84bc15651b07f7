"""Bearer-token authentication for the API and role checks; the principal is a plain value."""

from __future__ import annotations

from functools import wraps

from flask import current_app, g, request

from sync import auth as sync_auth
from sync import ratelimit
from sync.errors import AuthError, Forbidden
from sync.principal import Principal

from .extensions import db
from .web.session_auth import request_token


def bearer_token() -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthError("send Authorization: Bearer <token>", errors={"Authorization": ["missing bearer token"]})
    return token.strip()


def current_principal() -> Principal:
    """Authenticate once per request, in a transaction of its own that ends here."""
    if "principal" not in g:
        try:
            g.principal = sync_auth.authenticate(db.session, request_token(bearer_token))
        finally:
            db.session.rollback()
    return g.principal


def client_ip() -> str:
    return request.remote_addr or "unknown"


def limit(kind: str, *keys: str) -> None:
    """Count this request against each key's budget, in the database shared by all instances."""
    budget = current_app.config[f"{kind.upper()}_RATE_LIMIT"]
    try:
        for key in keys:
            ratelimit.hit(db.session, f"{kind}:{key}", limit=budget, window_s=60)
        ratelimit.hit(db.session, f"ip:{client_ip()}", limit=current_app.config["IP_RATE_LIMIT"], window_s=60)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise


def auth_required(*roles: str):
    """Require a valid token, and one of ``roles`` when given (403 for a role that has no business here)."""

    def decorate(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            principal = current_principal()
            if roles and principal.role not in roles:
                raise Forbidden(f"this endpoint is for {', '.join(roles)} accounts")
            return view(*args, **kwargs)

        return wrapper

    return decorate
