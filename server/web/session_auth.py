"""The web session as a credential for the JSON API, with CSRF protection for anything that writes.

Login stores a device-bound token in Flask's signed session cookie (each login has a device of its own,
``web-<random>``), so revocation, expiry and scoping work exactly as for bearer tokens, and revoking one
session's device ends that session only. A request that sends ``Authorization`` is a bearer
request; otherwise the session's token is used, and an unsafe method must echo the session's CSRF token
in ``X-CSRF-Token`` (forms: the ``csrf_token`` field).
"""

from __future__ import annotations

import hmac
import re
import secrets
from collections.abc import Callable

from flask import current_app, request, session

from sync.errors import SyncError

TOKEN_KEY = "jangkau_token"
CSRF_KEY = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# The browser's last web device id, sent back to /login only: it makes the next login from this browser
# a known device for the login limits. It grants nothing by itself (the password is still checked).
DEVICE_COOKIE = "jangkau_device"
DEVICE_COOKIE_MAX_AGE_S = 365 * 86_400
_DEVICE_ID = re.compile(r"[A-Za-z0-9_-]{1,128}")


class CsrfRefused(SyncError):
    code = "csrf_refused"
    status = 403
    title = "Forbidden"


def csrf_token() -> str:
    """This session's CSRF token, created on first use ("" without a secret key: nothing can be posted)."""
    if not current_app.secret_key:
        return ""
    if CSRF_KEY not in session:
        session[CSRF_KEY] = secrets.token_urlsafe(32)
    return session[CSRF_KEY]


def check_csrf(sent: str | None) -> None:
    """Refuse unless ``sent`` equals the session's CSRF token (compared in constant time)."""
    expected = session.get(CSRF_KEY)
    if not sent or not expected or not hmac.compare_digest(str(sent), str(expected)):
        raise CsrfRefused("missing or invalid CSRF token", errors={CSRF_KEY: ["missing or invalid CSRF token"]})


def session_token() -> str | None:
    return session.get(TOKEN_KEY)


def start_session(token: str) -> None:
    """A fresh session (and CSRF token) for a new login: nothing survives from before it."""
    session.clear()
    session[TOKEN_KEY] = token
    csrf_token()


def request_token(bearer: Callable[[], str]) -> str:
    """The token of this request: the bearer token if one is sent, else the session's (CSRF-checked)."""
    token = session_token()
    if request.headers.get("Authorization") or not token:
        return bearer()
    if request.method not in SAFE_METHODS:
        check_csrf(request.headers.get(CSRF_HEADER))
    return token


def known_device() -> str | None:
    """The device id this browser logged in with before (``None`` without a well-formed cookie)."""
    value = request.cookies.get(DEVICE_COOKIE)
    return value if value and _DEVICE_ID.fullmatch(value) else None


def remember_device(response, device_id: str) -> None:
    response.set_cookie(
        DEVICE_COOKIE,
        device_id,
        max_age=DEVICE_COOKIE_MAX_AGE_S,
        path="/login",
        httponly=True,
        secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")),
        samesite="Lax",
    )
