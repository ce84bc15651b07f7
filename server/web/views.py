"""The pages: ``/login`` (form), ``/logout`` (POST), ``/map`` (Leaflet) and the npm-installed vendor files."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import abort, current_app, redirect, render_template, request, send_from_directory, session, url_for

from sync import auth as sync_auth
from sync import visit_queries
from sync.errors import AuthError, RateLimited
from sync.principal import Principal

from ..auth import limit
from ..extensions import db
from . import WEB_DIR, bp
from .session_auth import CSRF_KEY, check_csrf, csrf_token, session_token, start_session

WEB_ROLES = ("supervisor", "admin")
WEB_DEVICE_ID = "web"
# Only these folders of node_modules are served: the built files of the two map libraries.
VENDOR_DIRS = ("leaflet/dist/", "leaflet.markercluster/dist/")


@bp.before_request
def _csrf_on_every_post() -> None:
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        check_csrf(request.form.get(CSRF_KEY) or request.headers.get("X-CSRF-Token"))


@bp.app_context_processor
def _template_globals() -> dict:
    return {"csrf_token": csrf_token}


def session_principal() -> Principal | None:
    """The user behind the session cookie, or ``None`` when it is absent, expired or revoked."""
    token = session_token()
    if not token:
        return None
    try:
        return sync_auth.authenticate(db.session, token)
    except AuthError:
        return None
    finally:
        db.session.rollback()


def _safe_next(target: str | None) -> str:
    """Only same-site paths are followed after login (no open redirect)."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")) and not urlsplit(target).netloc:
        return target
    return url_for("web.map_page")


def _login_form(error: str | None = None, status: int = 200, username: str = ""):
    page = render_template("login.html", error=error, username=username, next=request.values.get("next", ""))
    return page, status


@bp.route("/login", methods=["GET"])
def login_page():
    """The login form (already logged in: straight to the map)."""
    principal = session_principal()
    if principal is not None and principal.role in WEB_ROLES:
        return redirect(_safe_next(request.args.get("next")))
    return _login_form()


@bp.route("/login", methods=["POST"])
def login_submit():
    """Check the password and start a cookie session bound to the user's ``web`` device."""
    if not current_app.config.get("SECRET_KEY"):
        return _login_form("Server belum dikonfigurasi (JANGKAU_SECRET_KEY) / server has no secret key", 503)
    username = (request.form.get("username") or "").strip()
    password = request.form.get("password") or ""
    if not username or not password:
        return _login_form("Isi nama pengguna dan kata sandi / enter username and password", 400, username)
    try:
        limit("login", f"user:{username.lower()}")
        token, _record, user = sync_auth.login(
            db.session, username=username, password=password, device_id=WEB_DEVICE_ID, device_name="Supervisor web"
        )
        if user.role not in WEB_ROLES:
            db.session.rollback()  # no token is kept for an account that may not use these pages
            return _login_form("Halaman ini untuk supervisor / these pages are for supervisors", 403, username)
        db.session.commit()
    except RateLimited:
        db.session.rollback()
        return _login_form("Terlalu banyak percobaan / too many attempts, try again in a minute", 429, username)
    except AuthError as exc:
        db.session.rollback()
        message = "Nama pengguna atau kata sandi salah / wrong username or password"
        if "revoked" in exc.detail:
            message = "Perangkat ini dicabut / this device was revoked"
        return _login_form(message, 401, username)
    start_session(token)
    return redirect(_safe_next(request.form.get("next")))


@bp.route("/logout", methods=["POST"])
def logout():
    """Revoke the session's token and forget the session."""
    principal = session_principal()
    if principal is not None:
        sync_auth.logout(db.session, principal)
        db.session.commit()
    session.clear()
    return redirect(url_for("web.login_page"))


@bp.route("/map")
def map_page():
    """The visit map with filters, flags and coverage; its data comes from the JSON API."""
    principal = session_principal()
    if principal is None or principal.role not in WEB_ROLES:
        return redirect(url_for("web.login_page", next=request.full_path.rstrip("?")))
    try:
        agents = visit_queries.agents_in_scope(db.session, principal=principal)
    finally:
        db.session.rollback()
    config = {
        "tileUrl": current_app.config.get("MAP_TILE_URL") or "",
        "csrfToken": csrf_token(),
        "canReview": principal.role in WEB_ROLES,
        "agents": {a.id: a.full_name or a.username for a in agents},
        "flagDescriptions": visit_queries.FLAG_DESCRIPTIONS,
        "api": "/api/v1",
    }
    return render_template(
        "map.html",
        principal=principal,
        agents=agents,
        outcomes=visit_queries.OUTCOMES,
        flags=visit_queries.FLAGS,
        map_config=config,
    )


@bp.route("/web/vendor/<path:filename>")
def vendor(filename: str):
    """Leaflet and Leaflet.markercluster as npm installed them (``npm ci`` in server/web)."""
    if not filename.startswith(VENDOR_DIRS) or ".." in filename.split("/"):
        abort(404)
    return send_from_directory(WEB_DIR / "node_modules", filename, max_age=3600)
