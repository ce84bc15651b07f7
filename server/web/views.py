"""Signing in and out, and the language switch: ``/login`` (form), ``/logout`` (POST), ``/language`` (POST)."""

from __future__ import annotations

from flask import current_app, make_response, redirect, render_template, request, session, url_for

from sync.accounts import auth as sync_auth
from sync.errors import AuthError, RateLimited

from .. import login_audit
from ..auth import begin_login
from ..extensions import db
from ..unit_of_work import reads, unit_of_work, writes
from . import bp
from .guard import WEB_ROLES, session_principal
from .i18n import LANG_COOKIE, LANG_COOKIE_MAX_AGE_S, LANGUAGES, translate
from .session_auth import known_device, remember_device, start_session
from .urls import local_path


def _safe_next(target: str | None) -> str:
    """Only local paths are followed after login; anything else goes to the dashboard (Beranda)."""
    return local_path(target) or url_for("web.dashboard")


def _login_form(error_key: str | None = None, status: int = 200, username: str = ""):
    error = translate(error_key) if error_key else None
    page = render_template("login.html", error=error, username=username, next=request.values.get("next", ""))
    return page, status


@bp.route("/login", methods=["GET"])
@reads
def login_page():
    """The login form (already logged in: straight to the dashboard)."""
    principal = session_principal()
    if principal is not None and principal.role in WEB_ROLES:
        return redirect(_safe_next(request.args.get("next")))
    return _login_form()


@bp.route("/login", methods=["POST"])
def login_submit():
    """Check the password and start a cookie session bound to a new device of its own (``web-…``).

    The browser keeps that device id in a cookie: a later login from it counts as a known device for
    the login limits (``server.auth.begin_login``), so an attack on the username does not lock it out.
    """
    if not current_app.config.get("SECRET_KEY"):
        return _login_form("login.no_secret", 503)
    username = (request.form.get("username") or "").strip()
    password = request.form.get("password") or ""
    if not username or not password:
        return _login_form("login.missing", 400, username)
    device_id = sync_auth.new_web_device_id()
    try:
        with unit_of_work() as work:
            attempt = begin_login(username, known_device())  # counted in a side transaction of its own
            token, record, user = sync_auth.login(
                db.session, username=username, password=password, device_id=device_id, device_name="Supervisor web"
            )
            allowed = user.role in WEB_ROLES
            if allowed:
                login_audit.succeeded(user, record, via="web")
            else:
                work.discard()  # no token is kept for an account that may not use these pages
            attempt.succeeded()
    except RateLimited as exc:
        page, status = _login_form("login.too_many", 429, username)
        return page, status, {"Retry-After": str(exc.retry_after)}
    except AuthError:
        login_audit.failed(username, via="web")
        return _login_form("login.wrong", 401, username)
    if not allowed:
        return _login_form("login.not_for_agents", 403, username)
    start_session(token)
    response = redirect(_safe_next(request.form.get("next")))
    remember_device(response, device_id)
    return response


@bp.route("/logout", methods=["POST"])
@writes
def logout():
    """Revoke the session's token and forget the session."""
    principal = session_principal()
    if principal is not None:
        sync_auth.logout(db.session, principal)
    session.clear()
    return redirect(url_for("web.login_page"))


@bp.route("/language", methods=["POST"])
@reads
def choose_language():
    """Switch the pages' language (a cookie of its own: it outlives sessions) and go back to the page."""
    chosen = request.form.get("lang")
    response = make_response(redirect(local_path(request.form.get("next")) or url_for("web.login_page"), code=303))
    if chosen in LANGUAGES:
        response.set_cookie(
            LANG_COOKIE,
            chosen,
            max_age=LANG_COOKIE_MAX_AGE_S,
            httponly=True,
            secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")),
            samesite="Lax",
        )
    return response
