"""Bearer-token authentication for the API and role checks; the principal is a plain value."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import wraps

from flask import current_app, g, request

from sync.accounts import auth as sync_auth
from sync.accounts import ratelimit
from sync.accounts.principal import Principal
from sync.errors import AuthError, Forbidden

from .extensions import db
from .unit_of_work import read_only, side_transaction
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
        with read_only():
            g.principal = sync_auth.authenticate(db.session, request_token(bearer_token))
    return g.principal


def client_ip() -> str:
    return request.remote_addr or "unknown"


def limit(kind: str, *keys: str) -> None:
    """Count this request against each key's budget, in the database shared by all instances.

    Call it before the route writes anything: the counts are a side transaction of their own.
    """
    budget = current_app.config[f"{kind.upper()}_RATE_LIMIT"]
    with side_transaction("rate-limit counters"):
        for key in keys:
            ratelimit.hit(db.session, f"{kind}:{key}", limit=budget, window_s=60)
        ratelimit.hit(db.session, f"ip:{client_ip()}", limit=current_app.config["IP_RATE_LIMIT"], window_s=60)


LOGIN_WINDOW_S = 60


@dataclass
class LoginAttempt:
    """A login counted as failed until ``succeeded`` takes it back (in the caller's transaction)."""

    counted: list[ratelimit.Window] = field(default_factory=list)

    def succeeded(self) -> None:
        for window in self.counted:
            ratelimit.undo(db.session, window)


def login_budgets() -> tuple[int, int, int]:
    """Failed logins per minute: per (username, IP), per IP, per username (README "Configuration")."""
    config = current_app.config
    per_user_ip = config["LOGIN_RATE_LIMIT"]
    per_ip = config.get("LOGIN_IP_RATE_LIMIT") or 10 * per_user_ip
    per_user = config.get("LOGIN_USER_RATE_LIMIT") or 3 * per_user_ip
    return per_user_ip, per_ip, per_user


def begin_login(username: str, device_id: str | None) -> LoginAttempt:
    """Count a login attempt against its budgets before the password is checked; 429 past one.

    Every attempt counts as a failure first (committed at once, so parallel guesses cannot overrun a
    budget) and a success takes it back. Three budgets of failures per minute, all in the database:
    per (username, client IP), per client IP (any username), and per username from anywhere. The last
    one does not refuse a device this user already logged in from (not revoked): whoever hammers a
    username from other addresses or devices cannot lock its owner out. Every attempt also counts
    against the client IP's general request budget.
    """
    per_user_ip, per_ip, per_user = login_budgets()
    name, ip = username.strip().lower(), client_ip()
    with side_transaction("rate-limit counters"):
        known = sync_auth.is_known_device(db.session, username=username, device_id=device_id)
        ratelimit.hit(db.session, f"ip:{ip}", limit=current_app.config["IP_RATE_LIMIT"], window_s=LOGIN_WINDOW_S)
        attempt, waits = LoginAttempt(), []
        for key, budget, enforced in (
            (f"login-fail:{name}@{ip}", per_user_ip, True),
            (f"login-fail-ip:{ip}", per_ip, True),
            (f"login-fail-user:{name}", per_user, not known),
        ):
            window = ratelimit.increment(db.session, key, window_s=LOGIN_WINDOW_S)
            attempt.counted.append(window)
            if enforced and window.count > budget:
                waits.append(window.retry_after)
    if waits:
        raise ratelimit.refuse(max(waits))
    return attempt


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
