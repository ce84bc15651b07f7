"""Supervisor web pages: server-rendered, Bahasa Indonesia by default with English switchable.

- ``views``: login, logout, the language switch; ``assets``: npm libraries and the shipped boundaries
- ``pages/``: one module per page (dashboard, duplicates, people, flagged visits, follow-ups, reminders,
  agents, the map, the leaderboard and the admin pages)
- ``guard`` (who may see a page), ``forms`` (typed input, confirmation, results), ``errors`` (errors as
  pages), ``security`` (CSRF on every POST, CSP), ``templating`` (what templates use), ``i18n`` and its
  one catalogue ``messages``; ``session_auth``: the cookie session as a credential for the JSON API too

Leaflet, Leaflet.markercluster and Chart.js come from npm at setup time (``package.json`` here) and are
served from ``node_modules``; nothing from npm is committed.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Flask

WEB_DIR = Path(__file__).parent
bp = Blueprint("web", __name__, template_folder="templates", static_folder="static", static_url_path="/web/static")


def init_app(app: Flask) -> None:
    """Register the pages (modules are imported here, so ``server.auth`` may import this package)."""
    from . import assets, errors, pages, security, templating, views  # noqa: F401 - attach routes to ``bp``

    # Flask defines SESSION_COOKIE_SAMESITE as None, so setdefault would keep None: set what is unset.
    if not app.config.get("SESSION_COOKIE_SAMESITE"):
        app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.register_blueprint(bp)
