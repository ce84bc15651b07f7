"""The pages: ``/login`` (form), ``/logout`` (POST), ``/map`` (Leaflet) and the npm-installed vendor files."""

from __future__ import annotations

import re
from urllib.parse import quote, urlsplit

from flask import abort, current_app, redirect, render_template, request, send_from_directory, session, url_for

from sync.accounts import auth as sync_auth
from sync.accounts.principal import Principal
from sync.accounts.users import agents_in_scope
from sync.errors import AuthError, RateLimited
from sync.visits import listing
from sync.visits.flags import FLAGS
from sync.visits.validation import OUTCOMES

from ..auth import begin_login
from ..extensions import db
from ..unit_of_work import read_only, reads, unit_of_work, writes
from . import WEB_DIR, bp
from .session_auth import (
    CSRF_KEY,
    check_csrf,
    csrf_token,
    known_device,
    remember_device,
    session_token,
    start_session,
)

WEB_ROLES = ("supervisor", "admin")
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
        with read_only():
            return sync_auth.authenticate(db.session, token)
    except AuthError:
        return None


_UNSAFE_IN_NEXT = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\\]|//")
# Characters kept as they are when ``next`` is re-quoted (everything else non-ASCII is percent-encoded).
_NEXT_SAFE = "/?&=%#:@!$'()*+,;~-._"


def _safe_next(target: str | None) -> str:
    """Only local paths are followed after login (no open redirect, no header injection): one leading
    ``/``, no ``//`` anywhere, no backslash, no control character; anything else goes to the map."""
    if (
        target
        and target.startswith("/")
        and not _UNSAFE_IN_NEXT.search(target)
        and not urlsplit(target).netloc
        and len(target) <= 2000
    ):
        return quote(target, safe=_NEXT_SAFE)
    return url_for("web.map_page")


def _tile_source() -> str | None:
    """The origin map tiles come from, for the page's CSP (``{s}`` subdomains become ``*``)."""
    parts = urlsplit((current_app.config.get("MAP_TILE_URL") or "").replace("{s}", "tile-subdomain"))
    if parts.scheme not in ("http", "https") or not parts.hostname or "{" in parts.netloc:
        return None
    host = parts.netloc.rsplit("@", 1)[-1].replace("tile-subdomain", "*")
    if not re.fullmatch(r"[A-Za-z0-9*.:\[\]-]+", host):
        return None
    return f"{parts.scheme}://{host}"


def content_security_policy() -> str:
    """Scripts, styles, fonts and data from this site only; images also from the tile server."""
    images = " ".join(filter(None, ("'self'", "data:", _tile_source())))
    return "; ".join(
        (
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            f"img-src {images}",
            "connect-src 'self'",
            "font-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        )
    )


@bp.after_request
def _page_headers(response):
    """Every page (and file) of the web blueprint: a CSP and no framing, no MIME sniffing."""
    response.headers["Content-Security-Policy"] = content_security_policy()
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers.setdefault("Referrer-Policy", "same-origin")
    return response


def _login_form(error: str | None = None, status: int = 200, username: str = ""):
    page = render_template("login.html", error=error, username=username, next=request.values.get("next", ""))
    return page, status


@bp.route("/login", methods=["GET"])
@reads
def login_page():
    """The login form (already logged in: straight to the map)."""
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
        return _login_form("Server belum dikonfigurasi (JANGKAU_SECRET_KEY) / server has no secret key", 503)
    username = (request.form.get("username") or "").strip()
    password = request.form.get("password") or ""
    if not username or not password:
        return _login_form("Isi nama pengguna dan kata sandi / enter username and password", 400, username)
    device_id = sync_auth.new_web_device_id()
    try:
        with unit_of_work() as work:
            attempt = begin_login(username, known_device())  # counted in a side transaction of its own
            token, _record, user = sync_auth.login(
                db.session, username=username, password=password, device_id=device_id, device_name="Supervisor web"
            )
            allowed = user.role in WEB_ROLES
            if not allowed:
                work.discard()  # no token is kept for an account that may not use these pages
            attempt.succeeded()
    except RateLimited as exc:
        page, status = _login_form("Terlalu banyak percobaan / too many attempts, try again in a minute", 429, username)
        return page, status, {"Retry-After": str(exc.retry_after)}
    except AuthError:
        return _login_form("Nama pengguna atau kata sandi salah / wrong username or password", 401, username)
    if not allowed:
        return _login_form("Halaman ini untuk supervisor / these pages are for supervisors", 403, username)
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


@bp.route("/map")
@reads
def map_page():
    """The visit map with filters, flags and coverage; its data comes from the JSON API."""
    principal = session_principal()
    if principal is None or principal.role not in WEB_ROLES:
        return redirect(url_for("web.login_page", next=request.full_path.rstrip("?")))
    agents = agents_in_scope(db.session, principal=principal)
    config = {
        "tileUrl": current_app.config.get("MAP_TILE_URL") or "",
        "csrfToken": csrf_token(),
        "canReview": principal.role in WEB_ROLES,
        "agents": {a.id: a.full_name or a.username for a in agents},
        "flagDescriptions": listing.FLAG_DESCRIPTIONS,
        "api": "/api/v1",
    }
    return render_template(
        "map.html",
        principal=principal,
        agents=agents,
        outcomes=OUTCOMES,
        flags=FLAGS,
        map_config=config,
    )


@bp.route("/web/vendor/<path:filename>")
def vendor(filename: str):
    """Leaflet and Leaflet.markercluster as npm installed them (``npm ci`` in server/web)."""
    if not filename.startswith(VENDOR_DIRS) or ".." in filename.split("/"):
        abort(404)
    return send_from_directory(WEB_DIR / "node_modules", filename, max_age=3600)
