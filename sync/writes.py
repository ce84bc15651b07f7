"""Set-based writes: one INSERT and one UPDATE per table per push, never one statement per record."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

from sqlalchemy import ColumnElement, any_, insert, literal, select, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

CHUNK = 900  # stays under SQLite's bound-parameter limit for IN lists


def chunked(values: Sequence, size: int = CHUNK) -> Iterator[Sequence]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def in_ids(session: Session, column, ids: Iterable) -> ColumnElement[bool]:
    """``column IN ids``; on PostgreSQL one array parameter (``= ANY``), which psycopg need not re-parse."""
    values = list(ids)
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(literal(values, ARRAY(column.type)))
    return column.in_(values)


def load_by_ids(session: Session, model, ids: Iterable[str], *columns) -> dict[str, dict]:
    """Rows of ``model`` with these ids (deleted ones included), as dicts keyed by id."""
    ids = list(ids)
    cols = columns or tuple(model.__table__.columns)
    found: dict[str, dict] = {}
    for part in chunked(ids):
        for row in session.execute(select(*cols).where(in_ids(session, model.id, part))).mappings():
            found[row["id"]] = dict(row)
    return found


def save_rows(session: Session, model, rows: list[dict], existing: set[str]) -> None:
    """Insert the new rows and update the known ones by primary key, each as one batched statement."""
    # Core INSERT sends NULLs as values, so one executemany per key set (ORM bulk inserts split by NULL pattern).
    for group in _by_keys(r for r in rows if r["id"] not in existing):
        session.execute(insert(model.__table__), group)
    for group in _by_keys(r for r in rows if r["id"] in existing):
        session.execute(update(model), group)  # ORM bulk UPDATE by primary key


def _by_keys(rows: Iterable[dict]) -> list[list[dict]]:
    groups: dict[tuple, list[dict]] = {}
    for row in rows:
        groups.setdefault(tuple(sorted(row)), []).append(row)
    return list(groups.values())
