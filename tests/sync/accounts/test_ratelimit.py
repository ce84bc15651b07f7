"""Database-backed rate limits: shared counters, 429 past the budget, spent windows purged."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from sync.accounts import ratelimit
from sync.errors import RateLimited
from sync.models import RateLimitWindow
from sync.protocol.clock import now_ms


def test_budget_then_rate_limited(session):
    for _ in range(3):
        ratelimit.hit(session, "login:user:x", limit=3, window_s=60)
    with pytest.raises(RateLimited) as info:
        ratelimit.hit(session, "login:user:x", limit=3, window_s=60)
    assert 1 <= info.value.retry_after <= 60


def test_purge_drops_only_spent_windows(session):
    """The hourly housekeeping job removes windows older than its cut-off and keeps the current one."""
    session.add(RateLimitWindow(key="login:user:old", window_start=now_ms() - 7_200_000, count=5))
    ratelimit.hit(session, "login:user:new", limit=10, window_s=60)
    ratelimit.purge(session, older_than_ms=now_ms() - 3_600_000)
    keys = session.execute(select(RateLimitWindow.key)).scalars().all()
    assert keys == ["login:user:new"]
    assert session.execute(select(func.count()).select_from(RateLimitWindow)).scalar_one() == 1
