"""Fixed-window rate limits counted in the database, so every app instance shares them."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

from sync.errors import RateLimited
from sync.protocol.clock import now_ms

MAX_KEY_CHARS = 200


@dataclass(frozen=True)
class Window:
    """One key's count in the current window, and the seconds until that window ends."""

    key: str
    start: int
    count: int
    retry_after: int


def increment(session: Session, key: str, *, window_s: int) -> Window:
    """Count one event for ``key`` in the current window (atomically, whichever instance counts)."""
    now = now_ms()
    window = window_s * 1000
    start = now - now % window
    key = key[:MAX_KEY_CHARS]
    count = session.execute(
        text(
            "INSERT INTO rate_limits (key, window_start, count) VALUES (:key, :start, 1) "
            "ON CONFLICT (key, window_start) DO UPDATE SET count = rate_limits.count + 1 RETURNING count"
        ),
        {"key": key, "start": start},
    ).scalar_one()
    return Window(key, start, count, max(1, (start + window - now + 999) // 1000))


def undo(session: Session, window: Window) -> None:
    """Take back one event counted by ``increment`` (in the window it was counted in)."""
    session.execute(
        text("UPDATE rate_limits SET count = count - 1 WHERE key = :key AND window_start = :start AND count > 0"),
        {"key": window.key, "start": window.start},
    )


def refuse(retry_after: int) -> RateLimited:
    return RateLimited(f"too many requests; retry in {retry_after} s", retry_after=retry_after)


def hit(session: Session, key: str, *, limit: int, window_s: int) -> None:
    """Count one request for ``key``; raise ``RateLimited`` past ``limit`` in the current window."""
    counted = increment(session, key, window_s=window_s)
    if counted.count > limit:
        raise refuse(counted.retry_after)


def purge(session: Session, *, older_than_ms: int) -> None:
    session.execute(text("DELETE FROM rate_limits WHERE window_start < :t"), {"t": older_than_ms})
