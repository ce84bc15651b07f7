"""Helpers for the geo tests: push visits as an agent (``tests.factories.push_as``) and read rows back."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from sync.models import User, Visit
from sync.pii import PiiProtector
from sync.protocol.clock import now_ms
from sync.protocol.push import PushOutcome
from sync.settings import EngineSettings
from tests.factories import push_as

HOUR = 3_600_000
DAY = 24 * HOUR
WIB = 7 * HOUR

KARAWANG = (-6.3227, 107.3376)
JAKARTA = (-6.1754, 106.8272)
BANDUNG = (-6.9175, 107.6191)
SURABAYA = (-7.2575, 112.7521)


def local_morning(days_ago: int = 2) -> int:
    """09:00 WIB ``days_ago`` days back, in ms: visits a few hours after it share one local day."""
    today = (now_ms() + WIB) // DAY
    return (today - days_ago) * DAY - WIB + 9 * HOUR


def push_visits(
    session: Session,
    pii: PiiProtector,
    agent: User,
    created: list[dict] = (),
    updated: list[dict] = (),
    deleted: list[str] = (),
    settings: EngineSettings | None = None,
) -> PushOutcome:
    """One committed push of visits, as a phone that has just pulled everything; ``settings`` for other thresholds."""
    visits = {"created": list(created), "updated": list(updated), "deleted": list(deleted)}
    return push_as(session, pii, agent, {"visits": visits}, settings=settings)


def stored(session: Session, visit_id: str) -> dict:
    """The visit's row as the database holds it now (bypassing the session's identity map)."""
    return dict(session.execute(select(Visit.__table__).where(Visit.id == visit_id)).mappings().one())


def flags_of(session: Session, visit_id: str) -> set[str]:
    return set(filter(None, (stored(session, visit_id)["flags"] or "").split(",")))


def at(point: tuple[float, float], north_m: float = 0.0, east_m: float = 0.0) -> dict:
    """Coordinates a few metres off ``point`` (small offsets, flat-earth approximation)."""
    import math

    lat, lon = point
    return {
        "latitude": lat + north_m / 110_574,
        "longitude": lon + east_m / (111_320 * math.cos(math.radians(lat))),
    }
