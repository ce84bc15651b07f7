"""Contest test helpers: local times in Jakarta, pushes at a chosen sync-clock stamp, periods and boards.

Every time in these tests lies in 2031 or later, ahead of the real clock, so setting the sync clock to
``t - 1`` makes the next push's stamp (its enrolments' ``valid_since``) exactly ``t``.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from sync.contest import leaderboard, periods
from sync.models import User
from sync.models.contest import ContestCredit
from sync.protocol.clock import current_stamp
from sync.protocol.push import PushOutcome, push
from tests.factories import changes, enrollment, make_branch, make_user, principal_of, valid_nik, visit

WIB = ZoneInfo("Asia/Jakarta")
HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS


def at(day: str, hour: int = 12, minute: int = 0) -> int:
    """Epoch ms of ``day`` (YYYY-MM-DD) at ``hour:minute`` in Jakarta (UTC+7)."""
    moment = dt.datetime.combine(dt.date.fromisoformat(day), dt.time(hour, minute), tzinfo=WIB)
    return int(moment.timestamp()) * 1000


def set_clock(session: Session, value: int) -> None:
    session.execute(text("UPDATE sync_clock SET value = :v WHERE id = 1"), {"v": value})
    session.commit()


_serials = iter(range(5000, 9000))


def person(**overrides) -> dict:
    """A valid enrolment of a person nobody else resembles (own NIK, name, birth date, phone, village)."""
    serial = next(_serials)
    birth = dt.date(1960 + serial % 40, 1 + serial % 12, 1 + serial % 28)
    names = ("Agus", "Bayu", "Cahya", "Dedi", "Eko", "Fajar", "Gilang", "Hadi", "Indra", "Joko")
    family = ("Santoso", "Wibowo", "Saputra", "Hidayat", "Nugroho", "Pratama", "Kusuma", "Setiawan")
    record = enrollment(
        nik=valid_nik(serial, birth=birth),
        full_name=f"{names[serial % 10]} {family[(serial // 10) % 8]} {serial}",
        birth_date=birth.isoformat(),
        sex="M",
        phone=f"0813{serial:08d}",
        village=f"Desa {serial}",
    )
    return record | overrides


def push_as(session: Session, pii, user: User, tables: dict) -> PushOutcome:
    """One push through the engine as ``user``'s phone, just after a pull of everything; committed."""
    outcome = push(
        session,
        principal=principal_of(user),
        changes=changes(**tables),
        last_pulled_at=current_stamp(session),
        pii=pii,
    )
    session.commit()
    return outcome


def push_at(
    session: Session,
    pii,
    agent: User,
    when: int,
    *records: dict,
    updated: tuple[dict, ...] = (),
    deleted: tuple[str, ...] = (),
) -> dict:
    """Push these enrolments as ``agent`` so that their stamp (``valid_since``) is exactly ``when``."""
    set_clock(session, when - 1)
    parts = {"created": list(records), "updated": list(updated), "deleted": list(deleted)}
    outcome = push_as(session, pii, agent, {"enrollments": parts})
    assert outcome.timestamp == when
    return outcome.results["enrollments"]


def enrol(session: Session, pii, agent: User, when: int, captured_at: int | None = None) -> dict:
    """One new person enrolled by ``agent``, valid at ``when``, captured at ``captured_at`` (default ``when``)."""
    record = person(captured_at=when if captured_at is None else captured_at)
    result = push_at(session, pii, agent, when, record)[record["id"]]
    assert result["status"] == "verified", result
    return record | {"worker_id": result["worker_id"]}


def visit_at(session: Session, pii, agent: User, visited_at: int) -> dict:
    record = visit(visited_at=visited_at)
    push_as(session, pii, agent, {"visits": {"created": [record]}})
    return record


def branch_with_agent(session: Session, code: str, agent_name: str | None = None):
    branch = make_branch(session, code)
    session.flush()
    agent = make_user(session, agent_name, "agent", branch) if agent_name else None
    session.commit()
    return branch, agent


def period(session: Session, name: str, first: str, last: str, targets: dict | None = None):
    created = periods.create_period(
        session,
        name=name,
        starts_on=dt.date.fromisoformat(first),
        ends_on=dt.date.fromisoformat(last),
        targets=targets or {},
    )
    session.commit()
    return created


def board(session: Session, period_id: str, as_of: int) -> dict[str, dict]:
    """The branch table by branch code."""
    session.expire_all()
    table = leaderboard.branch_leaderboard(session, period_id=period_id, as_of=as_of)
    session.rollback()
    return {item["branch_code"]: item for item in table["items"]}


def counted(session: Session) -> dict[str, tuple[str | None, int, bool]]:
    """Credit rows by person: (branch, credit time, counted)."""
    session.expire_all()
    rows = session.execute(select(ContestCredit)).scalars()
    return {r.worker_id: (r.branch_id, r.credit_at, r.counted) for r in rows}
