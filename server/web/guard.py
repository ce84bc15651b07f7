"""Who is looking at a page: the session's user, supervisors and admins only, and admin-only pages.

Agents never get a web session (``views.login_submit``); a session whose token was revoked or expired,
or a role that may not use the pages, is sent to the login form. A supervisor asking for an admin page
gets 404, like any id outside their scope.
"""

from __future__ import annotations

from functools import wraps

from flask import g, redirect, request, url_for

from sync.accounts import auth as sync_auth
from sync.accounts.principal import Principal
from sync.errors import AuthError, NotFound

from ..extensions import db
from ..unit_of_work import read_only
from .session_auth import session_token

WEB_ROLES = ("supervisor", "admin")
PAGE_FLAG = "jangkau_web_page"  # in ``g``: the request reached a page view (its errors render as pages)


def session_principal() -> Principal | None:
    """The user behind the session cookie, or ``None`` when it is absent, expired or revoked."""
    token = session_token()
    if not token:
        return None
    try:
        with read_only():
            return sync_auth.authenticate(db.session, token)
    except AuthError:
        return None


def web_principal() -> Principal | None:
    """``session_principal`` once per request, ``None`` for a role that may not use the pages."""
    if "web_principal" not in g:
        principal = session_principal()
        g.web_principal = principal if principal is not None and principal.role in WEB_ROLES else None
    return g.web_principal


def current() -> Principal:
    """The page's user (inside a ``page`` view, where it is known to exist)."""
    principal = web_principal()
    if principal is None:  # pragma: no cover - ``page`` redirected before the view ran
        raise AuthError("log in first")
    return principal


def login_redirect():
    target = request.full_path.rstrip("?") if request.method == "GET" else None
    return redirect(url_for("web.login_page", next=target) if target else url_for("web.login_page"))


def page(view):
    """A page for supervisors and admins (put it under ``@reads``/``@writes``); others go to the login form."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        if web_principal() is None:
            return login_redirect()
        setattr(g, PAGE_FLAG, True)
        return view(*args, **kwargs)

    return wrapper


def admin_page(view):
    """A page for admins only: a supervisor gets 404, as for anything outside their scope."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        if not current().is_admin:
            raise NotFound("no such page")
        return view(*args, **kwargs)

    return page(wrapper)
