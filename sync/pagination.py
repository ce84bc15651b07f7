"""Keyset pagination with opaque cursors: stable under inserts, no OFFSET scans (docs/api.md "Conventions")."""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from dataclasses import dataclass

from sqlalchemy import Select, and_, or_
from sqlalchemy.orm import Session

from sync.errors import InvalidRequest


def encode_cursor(values: list) -> str:
    return base64.urlsafe_b64encode(json.dumps(values, separators=(",", ":")).encode()).decode().rstrip("=")


MAX_CURSOR_CHARS = 1000
# Keys a cursor may carry: what encode_cursor writes for our sort columns and ids, nothing a database
# could choke on (a BIGINT overflow, NUL, a float that is not a number).
MAX_SORT_INT = 2**63 - 1
MAX_SORT_TEXT = 255
_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _invalid_cursor() -> InvalidRequest:
    return InvalidRequest("cursor is not valid", errors={"cursor": ["not a cursor from this API"]})


def _sort_key_ok(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return -MAX_SORT_INT <= value <= MAX_SORT_INT
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, str):
        return len(value) <= MAX_SORT_TEXT and not _CONTROL.search(value)
    return False


def decode_cursor(cursor: str | None) -> list | None:
    """``[sort key, id]`` from an opaque cursor, or a 422 naming ``cursor``: total over any input."""
    if not cursor:
        return None
    if not isinstance(cursor, str) or len(cursor) > MAX_CURSOR_CHARS or not cursor.isascii():
        raise _invalid_cursor()
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = json.loads(raw)
    except (binascii.Error, ValueError, RecursionError):  # ValueError covers bad JSON, UTF-8 and huge ints
        raise _invalid_cursor() from None
    if not isinstance(values, list) or len(values) != 2:
        raise _invalid_cursor()
    sort_value, last_id = values
    if not _sort_key_ok(sort_value) or not isinstance(last_id, str) or not _ID.fullmatch(last_id):
        raise _invalid_cursor()
    return values


def _matches_column(value: object, column) -> bool:
    """The sort key has the column's type (an int column takes ints, a float column numbers, text text)."""
    if value is None:
        return True
    try:
        python_type = column.type.python_type
    except (AttributeError, NotImplementedError):
        return True
    if python_type is int:
        return isinstance(value, int)
    if python_type is float:
        return isinstance(value, (int, float))
    if python_type is str:
        return isinstance(value, str)
    return True


@dataclass
class Page:
    items: list
    next_cursor: str | None


def paginate(
    session: Session, query: Select, *, sort_column, id_column, limit: int, cursor: str | None, descending: bool = True
) -> Page:
    """Run ``query`` ordered by (sort, id) from the cursor on; rows are returned as ORM objects or rows."""
    after = decode_cursor(cursor)
    if after is not None:
        sort_value, last_id = after
        if not _matches_column(sort_value, sort_column):
            raise _invalid_cursor()
        if descending:
            query = query.where(or_(sort_column < sort_value, and_(sort_column == sort_value, id_column < last_id)))
        else:
            query = query.where(or_(sort_column > sort_value, and_(sort_column == sort_value, id_column > last_id)))
    order = (sort_column.desc(), id_column.desc()) if descending else (sort_column.asc(), id_column.asc())
    rows = list(session.execute(query.order_by(*order).limit(limit + 1)).scalars())
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        next_cursor = encode_cursor([getattr(last, sort_column.key), getattr(last, id_column.key)])
    return Page(rows, next_cursor)
