"""The app under test: a wiped database, the Flask app, a logged-in agent, and its sync push and pull calls."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from sync.pii import PiiProtector
from tests import factories

from .database import APP_NAME, connect_args, fresh_database
from .loopback import start_gunicorn

TRANSPORTS = {
    "test-client": "Flask app in-process, Werkzeug test client",
    "gunicorn": "gunicorn, 1 sync worker, on 127.0.0.1",
}


@dataclass
class Bench:
    """One database, the app on it, the test world and a logged-in agent."""

    kind: str
    url: str
    engine: Engine
    app: object
    client: object
    world: factories.World
    api: factories.ApiHelper
    pii: PiiProtector
    server: subprocess.Popen | None = None

    def headers(self, device: str = "bench-phone") -> dict:
        return self.api.headers(self.world.agent_a, device)

    def close(self) -> None:
        from server.extensions import db

        if self.server is not None:
            self.server.terminate()
            self.server.wait(timeout=30)
        with self.app.app_context():
            db.engine.dispose()
        self.engine.dispose()
        if self.kind == "sqlite":  # the temporary directory made by database_urls
            shutil.rmtree(Path(self.url.removeprefix("sqlite:///")).parent, ignore_errors=True)


def app_config(url: str, keys: dict[str, str]) -> dict:
    """What ``tests/conftest.py`` uses, with rate limits out of the way and fresh PII keys."""
    return {
        "SQLALCHEMY_DATABASE_URI": url,
        "SECRET_KEY": "bench-secret",
        "PII_KEYS": keys["JANGKAU_PII_KEYS"],
        "PII_INDEX_KEY": keys["JANGKAU_PII_INDEX_KEY"],
        "LOGIN_RATE_LIMIT": 1_000_000,
        "SYNC_RATE_LIMIT": 1_000_000,
        "IP_RATE_LIMIT": 1_000_000,
        "SCHEDULER": "off",
        # server.config's engine options, plus a name for the connections so their CPU can be metered
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True, "hide_parameters": True, **connect_args(url, APP_NAME)},
    }


def setup_bench(kind: str, url: str, transport: str = "test-client") -> Bench:
    """A wiped database, the app with generated PII keys, two branches of users, agent A logged in."""
    instance = Path(tempfile.gettempdir()) / "jangkau-bench-instance"  # one for every run: gunicorn logs
    instance.mkdir(exist_ok=True)
    os.environ.setdefault("JANGKAU_INSTANCE_DIR", str(instance))
    from server import create_app  # after JANGKAU_INSTANCE_DIR: server.config reads it at import

    engine = fresh_database(url)
    keys = PiiProtector.generate_config()
    with warnings.catch_warnings():  # apispec's schema-name notices say nothing about speed
        warnings.simplefilter("ignore", UserWarning)
        app = create_app(app_config(url, keys))
    logging_quiet()
    with Session(engine, expire_on_commit=False) as session:
        world = factories.make_world(session)
    server = None
    if transport == "gunicorn":
        server, client = start_gunicorn(url, keys)
    else:
        client = app.test_client()
    api = factories.ApiHelper(client, world)
    try:
        api.token(world.agent_a, "bench-phone")
    except BaseException:
        if server is not None:
            server.terminate()
        raise
    pii = PiiProtector.from_config(keys["JANGKAU_PII_KEYS"], keys["JANGKAU_PII_INDEX_KEY"])
    return Bench(kind, url, engine, app, client, world, api, pii, server)


def logging_quiet() -> None:
    import logging

    logging.getLogger().setLevel(logging.WARNING)


def push(bench: Bench, body: bytes, last_pulled_at: int):
    """POST one push body over the app (the body is already serialised, as a phone would have it)."""
    response = bench.client.post(
        f"/api/v1/sync/push?last_pulled_at={last_pulled_at}",
        data=body,
        headers={**bench.headers(), "Content-Type": "application/json"},
    )
    if response.status_code != 200:
        raise RuntimeError(f"push answered {response.status_code}: {response.get_data(as_text=True)[:500]}")
    return response


def pull(bench: Bench, last_pulled_at: int | None = None, device: str = "bench-phone"):
    response = bench.client.get(
        "/api/v1/sync/pull",
        query_string={
            "last_pulled_at": "null" if last_pulled_at is None else last_pulled_at,
            "schema_version": 1,
            "migration": "null",
        },
        headers=bench.headers(device),
    )
    if response.status_code != 200:
        raise RuntimeError(f"pull answered {response.status_code}: {response.get_data(as_text=True)[:500]}")
    return response
