"""Migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import time
import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from server import MIGRATIONS_DIR, create_app
from server.config import normalize_database_url
from sync.models import Base


@pytest.fixture
def fresh_database_url(tmp_path):
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        yield f"sqlite:///{tmp_path / 'migrations.db'}"
        return
    base = make_url(normalize_database_url(url))
    name = f"jangkau_mig_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    yield base.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_upgrade_matches_models(app_config, fresh_database_url):
    """After `upgrade`, autogenerate finds nothing to add: models and migrations agree; the clock starts at
    the current time in epoch ms (a first pull's timestamp must be epoch ms, docs/sync.md "Pull" rule 7)."""
    started = time.time_ns() // 1_000_000
    app = create_app(app_config | {"SQLALCHEMY_DATABASE_URI": fresh_database_url})
    with app.app_context():
        upgrade(directory=MIGRATIONS_DIR)
        from server.extensions import db

        with db.engine.connect() as connection:
            diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
            clock = connection.execute(text("SELECT value FROM sync_clock WHERE id = 1")).scalar_one()
        db.engine.dispose()
    assert diff == []
    assert started <= clock <= time.time_ns() // 1_000_000
