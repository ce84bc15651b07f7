"""The benchmark database: wiped and recreated, emptied between runs, analysed after bulk loads."""

from __future__ import annotations

from sqlalchemy import delete
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from sync.db import create_schema, make_engine
from sync.models import Base
from sync.protocol.clock import current_stamp

APP_NAME = "jangkau-bench-app"  # PostgreSQL application_name of the app's connections (their CPU is metered)
RAW_NAME = "jangkau-bench-raw"  # the benchmark's own connections (the raw-insert baseline)
ACCOUNT_TABLES = frozenset({"branches", "users", "devices", "tokens", "sync_clock"})  # kept by clear_records


def connect_args(url: str, name: str) -> dict:
    return {"connect_args": {"application_name": name}} if url.startswith("postgresql") else {}


def fresh_database(url: str) -> Engine:
    """Drop every table, create the schema again (``sync.db.create_schema``) and return an engine."""
    engine = make_engine(url, hide_parameters=True, **connect_args(url, RAW_NAME))
    Base.metadata.drop_all(engine)
    create_schema(engine)
    return engine


def clear_records(engine: Engine) -> None:
    """Empty every table but the accounts (branches, users, devices, tokens) and the clock."""
    with Session(engine) as session, session.begin():
        for table in reversed(Base.metadata.sorted_tables):
            if table.name not in ACCOUNT_TABLES:
                session.execute(delete(table))


def clock_value(engine: Engine) -> int:
    with Session(engine) as session:
        return current_stamp(session)


def analyze(engine: Engine, *, checkpoint: bool = False) -> None:
    """Refresh planner statistics after bulk loads (what autovacuum would do a little later).

    ``checkpoint`` (PostgreSQL) then forces a checkpoint: the pushes measured next pay the full-page
    writes of every index page they touch first, the worst case, which a server meets right after each
    checkpoint. Without it the loaded pages are still dirty from the load, as in the steady state of a
    busy server where most pages were already written since the last checkpoint.
    """
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            auto = conn.execution_options(isolation_level="AUTOCOMMIT")
            auto.exec_driver_sql("ANALYZE")
            if checkpoint:
                auto.exec_driver_sql("CHECKPOINT")
        else:
            conn.exec_driver_sql("ANALYZE")
            conn.commit()
