"""Contest periods: whole days in a time zone, never overlapping, with a target per branch.

A period covers ``starts_on`` 00:00 to ``ends_on`` + 1 day 00:00 in its own zone (``ends_on`` inclusive),
kept as epoch milliseconds in ``starts_at``/``ends_at``. Two periods overlap when those spans intersect
(so periods in different zones are compared by the instants they cover). Targets are whole numbers ≥ 1.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from sync.calendar.workdays import DEFAULT_ZONE, ZONES
from sync.contest.activity import fill_period
from sync.errors import InvalidRequest, NotFound
from sync.models import Branch, new_id
from sync.models.contest import ContestPeriod, ContestTarget
from sync.pagination import Page, paginate
from sync.protocol.clock import next_stamp, now_ms
from sync.writes import chunked, in_ids

FIRST_DAY, LAST_DAY = dt.date(2000, 1, 1), dt.date(2999, 12, 30)
MAX_TARGET = 1_000_000_000
EDITABLE = ("name", "starts_on", "ends_on", "timezone", "targets")


def day_start(day: dt.date, zone: str) -> int:
    """Epoch milliseconds of ``day`` 00:00 in ``zone``."""
    return int(dt.datetime.combine(day, dt.time(0), tzinfo=ZoneInfo(zone)).timestamp()) * 1000


def local_day(at: int, zone: str) -> dt.datetime:
    return dt.datetime.fromtimestamp(at / 1000, tz=ZoneInfo(zone))


def period_days(period: ContestPeriod) -> int:
    return (period.ends_on - period.starts_on).days + 1


def get_period(session: Session, period_id: str) -> ContestPeriod:
    period = session.get(ContestPeriod, period_id)
    if period is None:
        raise NotFound("no such contest period", errors={"period_id": ["no such period"]})
    return period


def targets_of(session: Session, period_ids: Iterable[str]) -> dict[str, dict[str, int]]:
    """``{period id: {branch id: target}}`` (every period named gets a mapping, maybe empty)."""
    ids = sorted(set(period_ids))
    found: dict[str, dict[str, int]] = {pid: {} for pid in ids}
    for part in chunked(ids):
        rows = (
            session.connection()
            .execute(  # plain rows: a period may hold a target for each of thousands of branches
                select(ContestTarget.period_id, ContestTarget.branch_id, ContestTarget.target).where(
                    in_ids(session, ContestTarget.period_id, part)
                )
            )
            .all()
        )
        for pid, branch_id, target in rows:
            found[pid][branch_id] = target
    return found


def period_json(period: ContestPeriod, targets: Mapping[str, int]) -> dict:
    return {
        "id": period.id,
        "name": period.name,
        "starts_on": period.starts_on.isoformat(),
        "ends_on": period.ends_on.isoformat(),
        "timezone": period.timezone,
        "targets": dict(sorted(targets.items())),
        "starts_at": period.starts_at,
        "ends_at": period.ends_at,
    }


def list_periods(session: Session, *, limit: int, cursor: str | None) -> Page:
    """Periods, latest start first."""
    return paginate(
        session,
        select(ContestPeriod),
        sort_column=ContestPeriod.starts_at,
        id_column=ContestPeriod.id,
        limit=limit,
        cursor=cursor,
    )


def previous_period(session: Session, period: ContestPeriod) -> ContestPeriod | None:
    """The latest period ending before this one starts (ties: the later start, then the id)."""
    return session.execute(
        select(ContestPeriod)
        .where(ContestPeriod.ends_at <= period.starts_at)
        .order_by(ContestPeriod.ends_at.desc(), ContestPeriod.starts_at.desc(), ContestPeriod.id.desc())
        .limit(1)
    ).scalar_one_or_none()


def period_at(session: Session, at: int) -> ContestPeriod | None:
    """The period running at ``at``, else the latest one that ended before it, else None."""
    running = session.execute(
        select(ContestPeriod).where(ContestPeriod.starts_at <= at, ContestPeriod.ends_at > at).limit(1)
    ).scalar_one_or_none()
    if running is not None:
        return running
    return session.execute(
        select(ContestPeriod)
        .where(ContestPeriod.ends_at <= at)
        .order_by(ContestPeriod.ends_at.desc(), ContestPeriod.starts_at.desc(), ContestPeriod.id.desc())
        .limit(1)
    ).scalar_one_or_none()


def _check_span(session: Session, errors: dict, values: dict, exclude: str | None) -> tuple[int, int] | None:
    starts_on, ends_on, zone = values["starts_on"], values["ends_on"], values["timezone"]
    if zone not in ZONES:
        errors["timezone"] = [f"must be one of {', '.join(ZONES)}"]
    for name in ("starts_on", "ends_on"):
        if not FIRST_DAY <= values[name] <= LAST_DAY:
            errors[name] = [f"must lie between {FIRST_DAY} and {LAST_DAY}"]
    if "ends_on" not in errors and "starts_on" not in errors and ends_on < starts_on:
        errors["ends_on"] = ["must not be before starts_on"]
    if errors.keys() & {"timezone", "starts_on", "ends_on"}:
        return None
    span = day_start(starts_on, zone), day_start(ends_on + dt.timedelta(days=1), zone)
    clash = session.execute(
        select(ContestPeriod)
        .where(ContestPeriod.starts_at < span[1], ContestPeriod.ends_at > span[0], ContestPeriod.id != (exclude or ""))
        .order_by(ContestPeriod.starts_at)
        .limit(1)
    ).scalar_one_or_none()
    if clash is not None:
        message = f"overlaps period {clash.name!r} ({clash.starts_on} to {clash.ends_on}, {clash.timezone})"
        errors["starts_on"] = errors["ends_on"] = [message]
        return None
    return span


def _check_targets(session: Session, errors: dict, targets: Mapping[str, int | None]) -> None:
    known: set[str] = set()
    names = sorted(targets)
    for part in chunked(names):
        known.update(session.execute(select(Branch.id).where(in_ids(session, Branch.id, part))).scalars())
    for branch_id in names:
        value = targets[branch_id]
        if branch_id not in known:
            errors[f"targets.{branch_id}"] = ["no such branch"]
        elif value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            errors[f"targets.{branch_id}"] = ["must be a whole number"]
        elif value is not None and not 1 <= value <= MAX_TARGET:
            errors[f"targets.{branch_id}"] = [f"must be from 1 to {MAX_TARGET}"]


def _check_name(errors: dict, name: object) -> str:
    text = name.strip() if isinstance(name, str) else ""
    if not text or len(text) > 200:
        errors["name"] = ["required, at most 200 characters"]
    return text


def _write_targets(session: Session, period_id: str, targets: Mapping[str, int | None]) -> None:
    """Merge-patch: a number sets the branch's target, None removes it."""
    for branch_id, value in sorted(targets.items()):
        session.execute(
            delete(ContestTarget).where(ContestTarget.period_id == period_id, ContestTarget.branch_id == branch_id)
        )
        if value is not None:
            session.add(ContestTarget(period_id=period_id, branch_id=branch_id, target=value))
    session.flush()


def create_period(
    session: Session,
    *,
    name: str,
    starts_on: dt.date,
    ends_on: dt.date,
    timezone: str = DEFAULT_ZONE,
    targets: Mapping[str, int] | None = None,
    created_by: str | None = None,
) -> ContestPeriod:
    """A new period; 422 naming the field for a bad name, zone, date, target or an overlap."""
    next_stamp(session)  # the clock row serialises period writes: two overlapping ones cannot both pass
    errors: dict[str, list[str]] = {}
    values = {"starts_on": starts_on, "ends_on": ends_on, "timezone": timezone}
    clean_name = _check_name(errors, name)
    span = _check_span(session, errors, values, None)
    _check_targets(session, errors, targets or {})
    if errors or span is None:
        raise InvalidRequest("invalid contest period", errors=errors)
    now = now_ms()
    period = ContestPeriod(
        id=new_id(),
        name=clean_name,
        starts_on=starts_on,
        ends_on=ends_on,
        timezone=timezone,
        starts_at=span[0],
        ends_at=span[1],
        created_at=now,
        created_by=created_by,
        updated_at=now,
    )
    session.add(period)
    session.flush()
    _write_targets(session, period.id, targets or {})
    fill_period(session, period)
    return period


def update_period(session: Session, period_id: str, changes: Mapping[str, Any]) -> ContestPeriod:
    """Change name, days, zone or targets (``targets`` is merged: a number sets, null removes)."""
    next_stamp(session)
    period = get_period(session, period_id)
    errors: dict[str, list[str]] = {}
    unknown = sorted(set(changes) - set(EDITABLE))
    for key in unknown:
        errors[key] = ["cannot be changed"]
    values = {
        "starts_on": changes.get("starts_on", period.starts_on),
        "ends_on": changes.get("ends_on", period.ends_on),
        "timezone": changes.get("timezone", period.timezone),
    }
    name = _check_name(errors, changes["name"]) if "name" in changes else period.name
    span = _check_span(session, errors, values, period.id)
    targets = changes.get("targets") or {}
    if not isinstance(targets, Mapping):
        errors["targets"] = ["must be an object of branch id to number"]
        targets = {}
    _check_targets(session, errors, targets)
    if errors or span is None:
        raise InvalidRequest("invalid contest period", errors=errors)
    period.name = name
    period.starts_on, period.ends_on, period.timezone = values["starts_on"], values["ends_on"], values["timezone"]
    moved = (period.starts_at, period.ends_at) != span
    period.starts_at, period.ends_at = span
    period.updated_at = now_ms()
    session.flush()
    _write_targets(session, period.id, targets)
    if moved:
        fill_period(session, period)
    return period


def branch_ids_by_code(session: Session, codes: Iterable[str]) -> dict[str, str]:
    """``{code: branch id}`` for the codes that exist."""
    wanted = sorted(set(codes))
    return dict(session.execute(select(Branch.code, Branch.id).where(Branch.code.in_(wanted))).all())
