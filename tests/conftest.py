"""Shared fixtures: one database per run (SQLite file by default, PostgreSQL with TEST_DATABASE_URL),
emptied before every test, the Flask app and client, and plain engine sessions for ``sync`` tests.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from server import create_app
from server.config import normalize_database_url
from server.extensions import db
from sync.db import create_schema, make_engine, truncate_all
from sync.models import Base
from sync.pii import PiiProtector
from tests import factories

TEST_KEYS = PiiProtector.generate_config()


def _database_url(tmp_dir: Path) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    return normalize_database_url(url) if url else f"sqlite:///{tmp_dir / 'test.db'}"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    url = _database_url(tmp_path_factory.mktemp("db"))
    engine = make_engine(url)
    Base.metadata.drop_all(engine)
    create_schema(engine)
    engine.dispose()
    return url


@pytest.fixture(scope="session")
def engine(database_url):
    engine = make_engine(database_url, hide_parameters=True)
    yield engine
    engine.dispose()


@pytest.fixture(autouse=True)
def _clean_database(engine):
    with Session(engine) as session, session.begin():
        truncate_all(session)


@pytest.fixture(scope="session")
def pii() -> PiiProtector:
    return PiiProtector.from_config(TEST_KEYS["JANGKAU_PII_KEYS"], TEST_KEYS["JANGKAU_PII_INDEX_KEY"])


@pytest.fixture(scope="session")
def app_config(database_url) -> dict:
    return {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SECRET_KEY": "test-secret",
        "PII_KEYS": TEST_KEYS["JANGKAU_PII_KEYS"],
        "PII_INDEX_KEY": TEST_KEYS["JANGKAU_PII_INDEX_KEY"],
        "LOGIN_RATE_LIMIT": 1000,
        "SYNC_RATE_LIMIT": 10000,
        "IP_RATE_LIMIT": 100000,
        "SCHEDULER": "off",
    }


@pytest.fixture(scope="session")
def make_app(app_config):
    """Build extra apps with config overrides; their connection pools are closed at the end of the run."""
    os.environ.setdefault("JANGKAU_INSTANCE_DIR", tempfile.mkdtemp(prefix="jangkau-instance-"))
    apps = []

    def build(**overrides):
        apps.append(create_app(app_config | overrides))
        return apps[-1]

    yield build
    for built in apps:
        with built.app_context():
            db.engine.dispose()


@pytest.fixture(scope="session")
def app(make_app):
    return make_app()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def session(engine):
    """A plain SQLAlchemy session (no Flask) for engine tests; the test commits what it wants kept."""
    with Session(engine, expire_on_commit=False) as session:
        yield session
        session.rollback()


@pytest.fixture
def world(session):
    """Two branches with an agent pair in the first, one agent in the second, a supervisor each, an admin."""
    return factories.make_world(session)


@pytest.fixture
def api(client, world):
    """Logged-in HTTP helpers for the people of ``world``."""
    return factories.ApiHelper(client, world)
