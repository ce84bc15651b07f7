"""Set-based writes: one INSERT and one UPDATE per table per push, never one statement per record."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

CHUNK = 900  # stays under SQLite's bound-parameter limit for IN lists


def chunked(values: Sequence, size: int = CHUNK) -> Iterator[Sequence]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def load_by_ids(session: Session, model, ids: Iterable[str], *columns) -> dict[str, dict]:
    """Rows of ``model`` with these ids (deleted ones included), as dicts keyed by id."""
    ids = list(ids)
    cols = columns or tuple(model.__table__.columns)
    found: dict[str, dict] = {}
    for part in chunked(ids):
        for row in session.execute(select(*cols).where(model.id.in_(part))).mappings():
            found[row["id"]] = dict(row)
    return found


def save_rows(session: Session, model, rows: list[dict], existing: set[str]) -> None:
    """Insert the new rows and update the known ones by primary key, each as one batched statement."""
    inserts = [r for r in rows if r["id"] not in existing]
    updates = [r for r in rows if r["id"] in existing]
    if inserts:
        session.execute(insert(model), inserts)
    # Bulk UPDATE by primary key wants one key set per batch: group rows by their keys.
    groups: dict[tuple, list[dict]] = {}
    for row in updates:
        groups.setdefault(tuple(sorted(row)), []).append(row)
    for group in groups.values():
        session.execute(update(model), group)
