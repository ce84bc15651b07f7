"""Supervisor web pages: login, logout and the visit map (cookie session, CSRF-protected forms).

The pages read the same JSON API as scripts, with the session cookie instead of a bearer token
(``session_auth.request_token``). Leaflet and its clustering plugin come from npm at setup time
(``package.json`` here) and are served from ``node_modules``; nothing from npm is committed.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Flask

WEB_DIR = Path(__file__).parent
bp = Blueprint("web", __name__, template_folder="templates", static_folder="static", static_url_path="/web/static")


def init_app(app: Flask) -> None:
    """Register the pages (the views module is imported here, so ``server.auth`` may import this package)."""
    from . import views  # noqa: F401 - attaches the routes to ``bp``

    # Flask defines SESSION_COOKIE_SAMESITE as None, so setdefault would keep None: set what is unset.
    if not app.config.get("SESSION_COOKIE_SAMESITE"):
        app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.register_blueprint(bp)
