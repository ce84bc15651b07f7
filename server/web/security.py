"""Every page and file of the web blueprint: CSRF on every POST, a strict CSP, no framing, no sniffing.

Scripts, styles, fonts and data come from this site only (the npm libraries are served from
``node_modules``, ``server.web.assets``); images also from the configured tile server.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from flask import current_app, request

from . import bp
from .session_auth import CSRF_KEY, check_csrf

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


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


@bp.before_request
def _csrf_on_every_post() -> None:
    if request.method not in SAFE_METHODS:
        check_csrf(request.form.get(CSRF_KEY) or request.headers.get("X-CSRF-Token"))


@bp.after_request
def _page_headers(response):
    response.headers["Content-Security-Policy"] = content_security_policy()
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers.setdefault("Referrer-Policy", "same-origin")
    return response
