"""One export from query to CSV text: its audit entry first, then the rows page by page.

The rows come from one streamed query (``yield_per``: a server-side cursor on PostgreSQL), a page at a
time, each page written out as one chunk of CSV text before the next is fetched. Rows are plain tuples,
not ORM objects, so nothing accumulates in the session: memory stays the same for ten rows or a million.

The caller (``server/api/exports.py``) commits the audit entry before the first chunk is produced, then
streams the chunks in a read-only transaction of their own.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from sqlalchemy import Row, Select, func, select
from sqlalchemy.orm import Session

from sync import audit
from sync.accounts.principal import Principal
from sync.exports.cells import cell

PAGE_ROWS = 1000
BOM = "\ufeff"  # spreadsheets (Excel) read the file as UTF-8 only with it

# A page of rows → their values, one list per row in ``header`` order (a page, so that lookups the
# values need are made once per page).
Shape = Callable[[Session, Sequence[Row]], list[list]]


@dataclass(frozen=True)
class Export:
    """One CSV export as its caller may have it."""

    action: str  # its audit action (``sync.audit.EXPORT_*``)
    header: tuple[str, ...]
    query: Select  # scoped, filtered and ordered
    shape: Shape
    filters: dict  # as given, JSON-ready: kept in the audit entry
    masked: bool  # NIK and phone masked (everyone but admins)


def record(session: Session, principal: Principal, export: Export) -> int:
    """Count the rows and add the export's audit entry (who, what, filters, rows, masked) to ``session``;
    returns the count. Commit it before the first row is sent: no export goes unrecorded."""
    rows = session.execute(select(func.count()).select_from(export.query.order_by(None).subquery())).scalar_one()
    detail = {"filters": export.filters, "rows": rows, "masked": export.masked}
    audit.record(session, principal, export.action, table="exports", detail=detail)
    return rows


def _lines(rows: list[list]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerows([list(map(cell, row)) for row in rows])
    return buffer.getvalue()


def csv_chunks(session: Session, export: Export, *, page_rows: int | None = None) -> Iterator[str]:
    """The CSV text (UTF-8 BOM, header, then the rows) as one chunk per page of ``page_rows`` rows
    (default ``PAGE_ROWS``). Nothing is queried before the first chunk is asked for."""
    yield BOM + _lines([list(export.header)])
    result = session.execute(export.query.execution_options(yield_per=page_rows or PAGE_ROWS))
    try:
        for page in result.partitions():
            yield _lines(export.shape(session, page))
    finally:
        result.close()  # also when the client went away mid-way: the server-side cursor is closed, not leaked
