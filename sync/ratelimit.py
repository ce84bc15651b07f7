"""Fixed-window rate limits counted in the database, so every app instance shares them."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

from .clock import now_ms
from .errors import RateLimited


def hit(session: Session, key: str, *, limit: int, window_s: int) -> None:
    """Count one request for ``key``; raise ``RateLimited`` past ``limit`` in the current window."""
    now = now_ms()
    window = window_s * 1000
    start = now - now % window
    count = session.execute(
        text(
            "INSERT INTO rate_limits (key, window_start, count) VALUES (:key, :start, 1) "
            "ON CONFLICT (key, window_start) DO UPDATE SET count = rate_limits.count + 1 RETURNING count"
        ),
        {"key": key[:200], "start": start},
    ).scalar_one()
    if count > limit:
        retry_after = max(1, (start + window - now + 999) // 1000)
        raise RateLimited(f"too many requests; retry in {retry_after} s", retry_after=retry_after)


def purge(session: Session, *, older_than_ms: int) -> None:
    session.execute(text("DELETE FROM rate_limits WHERE window_start < :t"), {"t": older_than_ms})
