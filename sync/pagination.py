"""Keyset pagination with opaque cursors: stable under inserts, no OFFSET scans (API.md §1)."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass

from sqlalchemy import Select, and_, or_
from sqlalchemy.orm import Session

from .errors import InvalidRequest


def encode_cursor(values: list) -> str:
    return base64.urlsafe_b64encode(json.dumps(values, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> list | None:
    if not cursor:
        return None
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(values, list) or len(values) != 2:
            raise ValueError
        return values
    except ValueError:
        raise InvalidRequest("cursor is not valid", errors={"cursor": ["not a cursor from this API"]}) from None


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
