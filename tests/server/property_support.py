"""Helpers shared by the property-based tests: hypothesis settings, database resets and snapshots, and a
readable account of a server error (the project frame that raised it, from the captured log)."""

from __future__ import annotations

import logging
import os
import traceback
from pathlib import Path

from hypothesis import HealthCheck, Phase, settings
from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from sync.models import Base

PROJECT = Path(__file__).resolve().parents[2]

# Accounts and their tokens survive a reset; everything else is emptied between examples.
ACCOUNT_TABLES = frozenset({"branches", "users", "devices", "tokens", "sync_clock"})
# Tables a refused request may legitimately write (its archive row, its rate-limit counter).
BOOKKEEPING_TABLES = ACCOUNT_TABLES | {"push_archive", "rate_limits"}


def property_settings(max_examples: int) -> settings:
    """Bounded, deterministic by default (CI). To hunt: ``JANGKAU_HYPOTHESIS_RANDOM=1`` draws new examples,
    ``JANGKAU_HYPOTHESIS_SCALE=10`` draws ten times as many."""
    scale = float(os.environ.get("JANGKAU_HYPOTHESIS_SCALE", "1"))
    return settings(
        max_examples=max(1, int(max_examples * scale)),
        deadline=None,
        derandomize=not os.environ.get("JANGKAU_HYPOTHESIS_RANDOM"),
        database=None,  # no .hypothesis directory in the working tree
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.filter_too_much,
        ],
        print_blob=False,
        # No shrinking and no "explain": against a server that fails, shrinking a push re-runs it hundreds
        # of times (minutes); each failure message names its input and the line that raised instead.
        phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target],
    )


def reset_records(engine) -> None:
    """Empty every table but the accounts, un-revoke the tokens (a logout or device revocation in an
    earlier example must not change what later examples test)."""
    from sync.models import Device, Token

    with Session(engine) as session, session.begin():
        for table in reversed(Base.metadata.sorted_tables):
            if table.name not in ACCOUNT_TABLES:
                session.execute(table.delete())
        session.execute(update(Token).values(revoked_at=None))
        session.execute(update(Device).values(revoked_at=None))


def snapshot(engine, skip: frozenset[str] = BOOKKEEPING_TABLES) -> dict[str, list[tuple]]:
    """Every row of every table except ``skip``, sorted: equal snapshots mean nothing was written."""
    out = {}
    with Session(engine) as session:
        for table in Base.metadata.sorted_tables:
            if table.name in skip:
                continue
            rows = session.execute(select(table)).all()
            out[table.name] = sorted(tuple(map(repr, row)) for row in rows)
    return out


def diff_snapshots(before: dict, after: dict) -> dict[str, str]:
    changed = {}
    for name in before:
        if before[name] != after[name]:
            changed[name] = f"{len(before[name])} rows → {len(after[name])} rows"
    return changed


def clock_value(engine) -> int:
    with Session(engine) as session:
        return session.execute(text("SELECT value FROM sync_clock")).scalar_one()


def server_error_trace(records: list[logging.LogRecord]) -> str:
    """The last unhandled error logged by the app: exception, the deepest project frame, the deepest frame."""
    for record in reversed(records):
        if not record.exc_info or not record.exc_info[1]:
            continue
        exc = record.exc_info[1]
        frames = traceback.extract_tb(record.exc_info[2])
        ours = [f for f in frames if str(PROJECT) in f.filename and "/.venv/" not in f.filename]
        where = []
        if ours:
            f = ours[-1]
            where.append(f"{Path(f.filename).relative_to(PROJECT)}:{f.lineno} in {f.name}")
        if frames and (not ours or frames[-1] is not ours[-1]):
            f = frames[-1]
            where.append(f"(raised in {Path(f.filename).name}:{f.lineno} {f.name})")
        message = str(exc).splitlines()[0][:200] if str(exc) else ""
        return f"{type(exc).__name__}: {message} at {' '.join(where)}"
    return "(no traceback logged)"


def server_error_key(records: list[logging.LogRecord]) -> str:
    """The cause of the last logged server error, without its message: exception type and project frame."""
    trace = server_error_trace(records)
    kind = trace.split(":", 1)[0]
    where = trace.rsplit(" at ", 1)[-1]
    return f"{kind} at {where}"


def is_problem(response) -> bool:
    return response.mimetype == "application/problem+json"
