"""Engines and transactions that behave the same on SQLite and PostgreSQL.

SQLite: WAL (readers never block the writer), a busy timeout, foreign keys, and an explicit ``BEGIN``
so a pull's SELECTs share one snapshot (Python's sqlite3 would otherwise start no transaction for
reads). PostgreSQL: a pull runs in REPEATABLE READ (docs/sync.md "The clock").
"""

from __future__ import annotations

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from sync.models import Base, SyncClock
from sync.protocol.clock import now_ms


def configure_engine(engine: Engine) -> Engine:
    """Attach the SQLite connection and transaction recipe; a no-op for other databases."""
    if engine.dialect.name != "sqlite" or getattr(engine, "_jangkau_configured", False):
        return engine

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        connection.exec_driver_sql("BEGIN")

    engine._jangkau_configured = True  # type: ignore[attr-defined]  # our marker, read back with getattr above
    return engine


def make_engine(url: str, **kwargs) -> Engine:
    return configure_engine(create_engine(url, **kwargs))


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


def begin_snapshot(session: Session) -> None:
    """Start the session's transaction as a consistent snapshot (call before any query)."""
    if session.get_bind().dialect.name == "postgresql":
        session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    else:
        session.connection()


def ensure_clock(session: Session) -> None:
    """Create the one clock row if missing (migrations insert it; tests using create_all need this)."""
    if session.get(SyncClock, 1) is None:
        session.add(SyncClock(id=1, value=now_ms()))
        session.flush()


def create_schema(engine: Engine) -> None:
    """Create all tables without Alembic: for benchmarks and throwaway databases only."""
    Base.metadata.create_all(engine)
    with Session(engine) as session, session.begin():
        ensure_clock(session)


def truncate_all(session: Session) -> None:
    """Empty every table and restart the clock at the current time (tests and benchmarks)."""
    for table in reversed(Base.metadata.sorted_tables):
        session.execute(table.delete())
    session.execute(text("INSERT INTO sync_clock (id, value) VALUES (1, :now)"), {"now": now_ms()})
