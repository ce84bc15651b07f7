"""The push archive: every body an agent sent, with who, when and what came of it (API.md §3.8)."""

from __future__ import annotations

import gzip

from sqlalchemy.orm import Session

from .clock import now_ms
from .models import PushArchive

MAX_ARCHIVED_BYTES = 32 * 1024 * 1024


def archive_push(
    session: Session,
    *,
    user_id: str | None,
    device_id: str | None,
    body: bytes,
    compressed: bool,
    last_pulled_at: str | None,
    status: int,
    outcome: str,
    stamp: int | None = None,
) -> None:
    """Store the body gzip-compressed (as received when it came compressed); oversized ones by size only."""
    stored = None
    if len(body) <= MAX_ARCHIVED_BYTES:
        stored = body if compressed else gzip.compress(body, compresslevel=5)
    session.add(
        PushArchive(
            user_id=user_id,
            device_id=device_id,
            received_at=now_ms(),
            status=status,
            outcome=outcome[:200],
            body_gzip=stored,
            body_bytes=len(body),
            last_pulled_at=(last_pulled_at or "")[:32] or None,
            stamp=stamp,
        )
    )
