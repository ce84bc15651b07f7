"""The Flask app: HTTP only. Business rules live in ``sync``; the wire contract in ``schemas``."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from sync.db import configure_engine

from . import config as config_module
from . import log_redaction, pii, web
from .api import register_blueprints
from .bodies import check_nul_in_body, check_nul_outside_body, check_request_line_and_headers, decode_body
from .errors import register_error_handlers
from .extensions import api, db, migrate

MIGRATIONS_DIR = str(Path(__file__).parent / "migrations")


def create_app(config: Mapping | None = None) -> Flask:
    """Build the app from environment variables, with ``config`` overriding (tests).

    The environment is read here, once; the engine's settings are parsed from the result, once, and kept
    in ``app.extensions["jangkau.settings"]`` (``server.config.engine_settings``). A bad value stops the
    process with a one-line ``ConfigError``.
    """
    values = config_module.from_env()
    if config:
        values.update(config)
    app = Flask(__name__, instance_path=str(values["INSTANCE_DIR"]))
    app.config.update(values)
    app.config["MAX_CONTENT_LENGTH"] = app.config["MAX_BODY_BYTES"]
    app.extensions[config_module.SETTINGS_EXTENSION] = config_module.parse_settings(app.config)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    log_redaction.install()
    if app.config["TRUSTED_PROXIES"] > 0:
        hops = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    register_extensions(app)
    register_error_handlers(app)
    register_blueprints(api)
    web.init_app(app)
    app.before_request(_request_edge)
    app.after_request(_nosniff)
    register_commands(app)
    return app


def register_extensions(app: Flask) -> None:
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///"):
        Path(app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    db.init_app(app)
    migrate.init_app(app, db, directory=MIGRATIONS_DIR)
    api.init_app(app)
    app.extensions["jangkau.pii"] = pii.build(app.config)
    with app.app_context():
        configure_engine(db.engine)


PUSH_ENDPOINT = "sync.push_changes"
# Signed by the gateway: nothing looks inside the body before the signature is checked (the view runs
# the NUL check itself once the caller is known).
SIGNED_BODY_ENDPOINTS = frozenset({"reminders.opt_out"})


def _request_edge() -> None:
    """Before any view: size limits (414/431), no NUL byte in the path, query or headers (400), the body
    decoded, then no NUL in its form fields or JSON strings (400). The push decodes its own body, so that
    even a refused body reaches the archive, and its record values may hold NULs: the engine strips them."""
    from flask import request

    check_request_line_and_headers()
    check_nul_outside_body()
    if request.endpoint != PUSH_ENDPOINT:
        decode_body()
        if request.endpoint not in SIGNED_BODY_ENDPOINTS:
            check_nul_in_body()


def _nosniff(response):
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    return response


def register_commands(app: Flask) -> None:
    from .cli import COMMANDS

    for command in COMMANDS:
        app.cli.add_command(command)
