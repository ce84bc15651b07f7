"""The leaderboard of a period: every branch (or every agent of one branch) with counts, growth and targets.

The rules, so each number can be checked by hand (docs/api.md "Contest"):

- ``enrollments``: counted credits (``sync.contest.credit``) whose credit time lies in
  ``[starts_at, min(ends_at, as_of))``, by the branch the credit was given to.
- ``elapsed_days``: whole or part days of the period up to ``min(as_of, ends_at)`` (0 before it starts);
  ``period_days``: its length in days.
- ``previous_period``: the latest period ending before this one starts. ``previous_enrollments`` counts
  all of it; ``previous_to_date`` its first ``elapsed_days`` days (all of it when it is shorter); both
  null without a previous period.
- ``growth_pct`` = (enrollments − previous_enrollments) / previous_enrollments × 100, ``growth_to_date_pct``
  likewise against ``previous_to_date``, ``target_pct`` = enrollments / target × 100: one decimal, halves
  rounded away from zero, null when the divisor is 0 or null.
- ``active_agents``: agents belonging to the branch at ``as_of`` with a live visit whose ``visited_at`` lies
  in ``[starts_at, min(ends_at, as_of))``.
- Order: enrollments descending, then growth_pct descending (nulls last), then branch code (agents:
  username); ranks 1…n, no ties. Every branch appears, zeros included.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.orm import Session

from sync.accounts import scope
from sync.accounts.principal import Principal
from sync.contest.branches import load_timeline, possible_members
from sync.contest.periods import (
    day_start,
    get_period,
    local_day,
    period_at,
    period_days,
    period_json,
    previous_period,
    targets_of,
)
from sync.errors import InvalidRequest, NotFound
from sync.models import Branch, User
from sync.models.contest import ContestActivity, ContestCredit, ContestPeriod, UserBranchHistory
from sync.protocol.clock import now_ms
from sync.writes import chunked, in_ids

C = ContestCredit


def one_decimal(numerator: int, denominator: int) -> float:
    """``numerator / denominator`` to one decimal, halves away from zero (200/3 → 66.7, 1/20 → 0.1,
    −1/20 → −0.1), in integers so no float rounding can tip a half."""
    a, b = abs(numerator), abs(denominator)
    tenths = (20 * a + b) // (2 * b)  # floor(10·a/b + 1/2)
    if tenths == 0:
        return 0.0
    return -tenths / 10 if (numerator < 0) != (denominator < 0) else tenths / 10


def pct(numerator: int, denominator: int | None) -> float | None:
    """``numerator / denominator × 100`` with one decimal (``one_decimal``, inlined: thousands of calls per
    table); None when the divisor is 0 or None."""
    if not denominator:
        return None
    a, b = abs(numerator) * 100, abs(denominator)
    tenths = (20 * a + b) // (2 * b)
    if tenths == 0:
        return 0.0
    return -tenths / 10 if (numerator < 0) != (denominator < 0) else tenths / 10


def growth(count: int, before: int | None, early: int | None) -> dict:
    """A row's count beside the previous period, whole (``before``) and to date (``early``); None without one."""
    return {
        "enrollments": count,
        "previous_enrollments": before,
        "growth_pct": None if before is None else pct(count - before, before),
        "previous_to_date": early,
        "growth_to_date_pct": None if early is None else pct(count - early, early),
    }


def _rows(session: Session, query) -> Sequence:
    """Plain rows of a large read, through the session's connection (no ORM row processing)."""
    return session.connection().execute(query).all()


@dataclass(frozen=True)
class Frame:
    """The spans one table counts: the period up to ``as_of``, and the previous period whole and to date."""

    period: ContestPeriod
    previous: ContestPeriod | None
    as_of: int
    upto: int  # min(ends_at, as_of), never before starts_at
    elapsed_days: int
    period_days: int
    previous_cut: int | None  # end of the previous period's first elapsed_days days

    @property
    def started(self) -> bool:
        return self.upto > self.period.starts_at


def elapsed_days(period: ContestPeriod, as_of: int) -> int:
    """Whole or part local days from ``starts_on`` to ``min(as_of, ends_at)``; 0 before the start."""
    until = min(as_of, period.ends_at)
    if until <= period.starts_at:
        return 0
    day = local_day(until, period.timezone).date()
    days = (day - period.starts_on).days
    return days + 1 if until > day_start(day, period.timezone) else days


def frame(session: Session, period: ContestPeriod, as_of: int) -> Frame:
    previous = previous_period(session, period)
    elapsed = elapsed_days(period, as_of)
    cut = None
    if previous is not None:
        if elapsed >= period_days(previous):
            cut = previous.ends_at
        else:
            cut = day_start(previous.starts_on + dt.timedelta(days=elapsed), previous.timezone)
    return Frame(
        period=period,
        previous=previous,
        as_of=as_of,
        upto=max(period.starts_at, min(period.ends_at, as_of)),
        elapsed_days=elapsed,
        period_days=period_days(period),
        previous_cut=cut,
    )


def resolve_period(session: Session, period_id: str | None, as_of: int) -> ContestPeriod:
    """The period named, else the one running at ``as_of``, else the latest that ended before it."""
    if period_id is not None:
        return get_period(session, period_id)
    period = period_at(session, as_of)
    if period is None:
        raise NotFound("no contest period at this time", errors={"period_id": ["no period yet: name one"]})
    return period


def _counts(session: Session, key, start: int, end: int, where: ColumnElement[bool] | None = None) -> Counter:
    """Counted credits per ``key`` with credit time in ``[start, end)``."""
    if end <= start:
        return Counter()
    query = select(key, func.count()).where(C.credit_at >= start, C.credit_at < end, C.counted).group_by(key)
    if where is not None:
        query = query.where(where)
    return Counter(dict(_rows(session, query)))


def _previous_counts(
    session: Session, fr: Frame, key, where: ColumnElement[bool] | None = None
) -> tuple[Counter, Counter]:
    """The previous period per ``key``: whole, and its first ``elapsed_days`` days (one scan)."""
    whole: Counter[str] = Counter()
    to_date: Counter[str] = Counter()
    if fr.previous is None or fr.previous_cut is None:
        return whole, to_date
    early = func.sum(case((C.credit_at < fr.previous_cut, 1), else_=0))
    query = (
        select(key, func.count(), early)
        .where(C.credit_at >= fr.previous.starts_at, C.credit_at < fr.previous.ends_at, C.counted)
        .group_by(key)
    )
    if where is not None:
        query = query.where(where)
    for value, total, before in _rows(session, query):
        whole[value], to_date[value] = total, int(before or 0)
    return whole, to_date


def _active(fr: Frame):
    """Agents with a live visit in [starts_at, upto): their first visit in the period came before upto."""
    return (ContestActivity.period_id == fr.period.id, ContestActivity.first_visit_at < fr.upto)


def _active_agents_by_branch(session: Session, fr: Frame) -> Counter:
    """Active agents per branch at as_of. Those who have not moved since as_of are in their current branch
    and counted by the database; the few who moved after it are placed by their history."""
    if not fr.started:
        return Counter()
    moved_since = select(UserBranchHistory.user_id).where(UserBranchHistory.since > fr.as_of)
    moved = case((User.id.in_(moved_since), User.id), else_=None).label("mover")
    active = (
        select(User.branch_id, moved)
        .select_from(ContestActivity)
        .join(User, User.id == ContestActivity.agent_id)
        .where(*_active(fr), User.role == "agent")
        .subquery()
    )
    rows = _rows(
        session, select(active.c.branch_id, active.c.mover, func.count()).group_by(active.c.branch_id, active.c.mover)
    )
    counts: Counter[str | None] = Counter()
    movers = []
    for branch_id, mover, number in rows:
        if mover is None:
            counts[branch_id] += number
        else:
            movers.append(mover)
    timeline = load_timeline(session, movers)
    counts.update(timeline.branch_at(user_id, fr.as_of) for user_id in movers)
    return counts


def _ranked(items: list[dict], name_key: str) -> list[dict]:
    """Sorted by enrolments, then growth (nulls last), then ``name_key``; ranks 1…n set in place."""
    items.sort(key=lambda i: (-i["enrollments"], i["growth_pct"] is None, -(i["growth_pct"] or 0.0), i[name_key]))
    for number, item in enumerate(items, start=1):
        item["rank"] = number
    return items


def _header(session: Session, fr: Frame) -> dict:
    ids = [fr.period.id] + ([fr.previous.id] if fr.previous else [])
    targets = targets_of(session, ids)
    return {
        "period": period_json(fr.period, targets[fr.period.id]),
        "previous_period": period_json(fr.previous, targets[fr.previous.id]) if fr.previous else None,
        "as_of": fr.as_of,
        "elapsed_days": fr.elapsed_days,
        "period_days": fr.period_days,
    }


def _branch_table(session: Session, fr: Frame, active: Counter) -> dict:
    header = _header(session, fr)
    targets = header["period"]["targets"]
    current = _counts(session, C.branch_id, fr.period.starts_at, fr.upto)
    whole, to_date = _previous_counts(session, fr, C.branch_id)
    branches = _rows(session, select(Branch.id, Branch.code, Branch.name, Branch.kind, Branch.region))
    has_previous = fr.previous is not None
    items = []
    for branch_id, code, name, kind, region in branches:
        count, target = current[branch_id], targets.get(branch_id)
        before, early = (whole[branch_id], to_date[branch_id]) if has_previous else (None, None)
        items.append(
            {
                "rank": 0,
                "branch_id": branch_id,
                "branch_code": code,
                "branch_name": name,
                "kind": kind,
                "region": region,
                **growth(count, before, early),
                "target": target,
                "target_pct": pct(count, target),
                "active_agents": active[branch_id],
            }
        )
    return header | {"items": _ranked(items, "branch_code")}


def branch_leaderboard(session: Session, *, period_id: str | None = None, as_of: int | None = None) -> dict:
    """The branch table of a period (default: the one running at ``as_of``, default now), as the API answers it.

    Counts only, no personal data: every supervisor and admin may read it.
    """
    moment = now_ms() if as_of is None else as_of
    fr = frame(session, resolve_period(session, period_id, moment), moment)
    return _branch_table(session, fr, _active_agents_by_branch(session, fr))


def _readable_branch(session: Session, principal: Principal, branch_id: str | None) -> Branch:
    """The branch whose agents the caller may rank: a supervisor's own (the default), any for an admin."""
    if branch_id is None:
        if principal.role != "supervisor" or not principal.branch_id:
            raise InvalidRequest("name the branch", errors={"branch_id": ["required"]})
        branch_id = principal.branch_id
    branch = session.execute(
        select(Branch).where(Branch.id == branch_id, scope.contest_branches(principal, Branch.id))
    ).scalar_one_or_none()
    if branch is None:
        raise NotFound("no such branch in your scope", errors={"branch_id": ["not found"]})
    return branch


def _agents_at(session: Session, branch_id: str, at: int) -> set[str]:
    candidates = possible_members(session, branch_id)
    timeline = load_timeline(session, candidates)
    return {user_id for user_id in candidates if timeline.branch_at(user_id, at) == branch_id}


def _users(session: Session, ids: Iterable[str]) -> dict[str, tuple[str, str | None]]:
    found: dict[str, tuple[str, str | None]] = {}
    for part in chunked(sorted(set(ids))):
        rows = session.execute(select(User.id, User.username, User.full_name).where(in_ids(session, User.id, part)))
        found.update({uid: (username, full_name) for uid, username, full_name in rows})
    return found


def _active_among(session: Session, fr: Frame, ids: Iterable[str]) -> set[str]:
    if not fr.started:
        return set()
    found: set[str] = set()
    for part in chunked(sorted(set(ids))):
        query = select(ContestActivity.agent_id).where(*_active(fr), in_ids(session, ContestActivity.agent_id, part))
        found.update(session.execute(query).scalars())
    return found


def agent_leaderboard(
    session: Session,
    *,
    principal: Principal,
    branch_id: str | None = None,
    period_id: str | None = None,
    as_of: int | None = None,
) -> dict:
    """One branch's agents ranked like the branches: the credits each earned for this branch.

    Lists the agents belonging to the branch at ``as_of`` and anyone who earned credit for it in the
    period or the previous one (an agent who moved away keeps what they earned here: ``in_branch`` false).
    A supervisor reads their own branch only (another is 404); an admin names any branch.
    """
    branch = _readable_branch(session, principal, branch_id)
    moment = now_ms() if as_of is None else as_of
    fr = frame(session, resolve_period(session, period_id, moment), moment)
    here = C.branch_id == branch.id
    current = _counts(session, C.agent_id, fr.period.starts_at, fr.upto, here)
    whole, to_date = _previous_counts(session, fr, C.agent_id, here)
    members = _agents_at(session, branch.id, fr.as_of)
    ids = members | set(current) | set(whole)
    users = _users(session, ids)
    active = _active_among(session, fr, ids)
    has_previous = fr.previous is not None
    items = []
    for agent_id in ids:
        username, full_name = users.get(agent_id, (agent_id, None))
        count = current[agent_id]
        before, early = (whole[agent_id], to_date[agent_id]) if has_previous else (None, None)
        items.append(
            {
                "rank": 0,
                "agent_id": agent_id,
                "username": username,
                "full_name": full_name,
                **growth(count, before, early),
                "active": agent_id in active,
                "in_branch": agent_id in members,
            }
        )
    branch_info = {"id": branch.id, "code": branch.code, "name": branch.name}
    return _header(session, fr) | {"branch": branch_info, "items": _ranked(items, "username")}


def standing(board: dict, branch_id: str) -> dict | None:
    """One branch's line of a branch table with its pace (None: no such branch).

    ``branches``: how many are ranked; ``projected``: enrollments × period_days / elapsed_days (the
    period's end at today's pace); ``target_to_date``: target × elapsed_days / period_days. One decimal,
    null when the divisor is 0 or there is no target.
    """
    item = next((i for i in board["items"] if i["branch_id"] == branch_id), None)
    if item is None:
        return None
    elapsed, days = board["elapsed_days"], board["period_days"]
    projected = one_decimal(item["enrollments"] * days, elapsed) if elapsed else None
    target = item["target"]
    target_to_date = one_decimal(target * elapsed, days) if target is not None else None
    return item | {"branches": len(board["items"]), "projected": projected, "target_to_date": target_to_date}


def branch_standing(
    session: Session, *, branch_id: str, period_id: str | None = None, as_of: int | None = None
) -> dict | None:
    """``standing`` of one branch for a dashboard, with the period header (``period``, ``elapsed_days``…).

    The same table as ``branch_leaderboard`` (ranks depend on every branch's counts), but active agents
    are counted for this branch alone, which spares the visits of all the others.
    """
    moment = now_ms() if as_of is None else as_of
    fr = frame(session, resolve_period(session, period_id, moment), moment)
    active = Counter({branch_id: len(_active_among(session, fr, _agents_at(session, branch_id, fr.as_of)))})
    board = _branch_table(session, fr, active)
    line = standing(board, branch_id)
    if line is None:
        return None
    return {key: value for key, value in board.items() if key != "items"} | {"standing": line}
