"""Visit outcomes → follow-ups for the agent, inside the push's transaction and with its stamp.

A push applies ``ctx.settings.follow_up_rules``; the defaults (``DEFAULT_RULES``): ``interested`` → revisit
in 3 days, ``not_home`` → revisit the next working day, ``follow_up`` → nothing (the agent made one on the
phone), ``enrolled`` → monthly payment reminders (planned by ``sync.payments``) and pending revisits
cancelled, ``refused`` → nothing.
A server-made follow-up's id derives from the visit id and the kind, so replaying a push never makes a
second one.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, cast

from sqlalchemy import CursorResult, or_, select, update
from sqlalchemy.orm import Session

from sync.accounts import scope
from sync.calendar import workdays
from sync.models import Branch, FollowUp, Visit
from sync.writes import chunked, in_ids, load_by_ids

if TYPE_CHECKING:  # sync.settings holds the rules and sync.protocol.context the settings
    from sync.protocol.context import PushContext

MAX_VISIT_AGE_MS = 30 * 86_400_000  # a phone clock further off than this is not trusted as the base time


@dataclass(frozen=True)
class Rule:
    """``mode``: ``days`` (N calendar days later), ``next_working_day``, or ``none``."""

    kind: str = "revisit"
    mode: str = "none"
    days: int = 0


DEFAULT_RULES: Mapping[str, Rule] = MappingProxyType(
    {
        "interested": Rule("revisit", "days", 3),
        "not_home": Rule("revisit", "next_working_day"),
        "follow_up": Rule(mode="none"),
        "enrolled": Rule(mode="none"),
        "refused": Rule(mode="none"),
        "already_member": Rule(mode="none"),
    }
)


def follow_up_id(visit_id: str, kind: str) -> str:
    """A deterministic id in the sync id format: the same visit and kind always give the same id."""
    return "fu" + hashlib.sha256(f"{visit_id}:{kind}".encode()).hexdigest()[:30]


def visit_zone(visit: dict, branch_zone: str) -> str:
    """The visit's own zone (geo enrichment), else its province's, else the branch's."""
    if visit.get("timezone") in workdays.ZONES:
        return visit["timezone"]
    return workdays.zone_for_province(visit.get("province_code")) or branch_zone


def branch_zone(session: Session, branch_id: str | None) -> str:
    branch = session.get(Branch, branch_id) if branch_id else None
    return workdays.zone_for_point(branch.latitude, branch.longitude) if branch else workdays.DEFAULT_ZONE


def due_time(rule: Rule, *, base: int, now: int, tz: str) -> int:
    """When the follow-up is due: by the rule from ``base``, inside working hours, never in the past."""
    if rule.mode == "days":
        due = workdays.after_days(base, rule.days, tz)
    else:
        due = workdays.next_working_day_same_time(base, tz)
    return max(due, workdays.within_working_hours(now, tz))


def _base_time(visit: dict, stamp: int) -> int:
    visited = visit.get("visited_at")
    if isinstance(visited, int | float) and stamp - MAX_VISIT_AGE_MS <= visited <= stamp:
        return int(visited)
    return stamp


def schedule_from_visits(session: Session, ctx: PushContext) -> None:
    """The ``after_apply`` step: create, or cancel, the follow-ups the pushed visits call for."""
    applied = ctx.applied
    visits = applied.visits
    if visits:
        _apply_rules(session, ctx, visits)
    # The person enrolled in this push: an enrolment that became valid now, a visit whose outcome became
    # "enrolled" now. Edits of an enrolment that was already valid cancel nothing.
    enrolled = [e for e in applied.enrollments if e.get("valid_since") == ctx.stamp]
    enrolled_visits = [v for v in visits if v["id"] in applied.visits_now_enrolled]
    if enrolled or enrolled_visits:
        cancel_revisits_on_enrolment(session, ctx, enrolled, enrolled_visits)


def _apply_rules(session: Session, ctx: PushContext, visits: list[dict]) -> None:
    # Enrichment may have filled zone columns after the rows were built: read them back.
    stored = load_by_ids(session, Visit, [v["id"] for v in visits], Visit.id, Visit.timezone, Visit.province_code)
    zone_of_branch = branch_zone(session, ctx.principal.branch_id)
    rules = ctx.settings.follow_up_rules
    wanted: dict[str, dict] = {}
    unwanted: list[str] = []
    for visit in visits:
        if visit.get("deleted_at") is not None:
            continue
        rule = rules.get(visit.get("outcome") or "", Rule())
        made = {follow_up_id(visit["id"], kind) for kind in ("revisit", "payment_reminder", "document_collection")}
        updated = "server_created_at" not in visit  # an existing visit: its outcome may have changed
        if rule.mode == "none":
            unwanted.extend(made if updated else ())
            continue
        fid = follow_up_id(visit["id"], rule.kind)
        unwanted.extend(made - {fid} if updated else ())
        tz = visit_zone({**visit, **stored.get(visit["id"], {})}, zone_of_branch)
        wanted[fid] = {
            "id": fid,
            "server_created_at": ctx.stamp,
            "last_modified": ctx.stamp,
            "deleted_at": None,
            "created_by_device": None,
            "enrollment_id": visit.get("enrollment_id"),
            "worker_id": visit.get("worker_id"),
            "visit_id": visit["id"],
            "kind": rule.kind,
            "due_at": due_time(rule, base=_base_time(visit, ctx.stamp), now=ctx.stamp, tz=tz),
            "status": "scheduled",
            "outcome_notes": None,
            "completed_at": None,
            "assigned_agent_id": ctx.principal.user_id,
            "branch_id": ctx.principal.branch_id,
        }
    existing = load_by_ids(session, FollowUp, wanted, FollowUp.id, FollowUp.status, FollowUp.deleted_at)
    own = _agent_made(session, [row["visit_id"] for fid, row in wanted.items() if fid not in existing])
    new_rows = [  # replays change nothing; nor does a visit the agent already planned on the phone
        row for fid, row in wanted.items() if fid not in existing and (row["visit_id"], row["kind"]) not in own
    ]
    if new_rows:
        session.execute(FollowUp.__table__.insert(), new_rows)
    revived = [fid for fid, row in existing.items() if row["status"] == "cancelled" and row["deleted_at"] is None]
    for fid in revived:  # the outcome came back to one that wants it (refused → interested)
        session.execute(
            update(FollowUp)
            .where(FollowUp.id == fid)
            .values(status="scheduled", due_at=wanted[fid]["due_at"], last_modified=ctx.stamp)
        )
    for part in chunked(sorted(set(unwanted))):
        # The outcome changed (interested → refused): the server-made follow-up is no longer wanted.
        session.execute(
            update(FollowUp)
            .where(in_ids(session, FollowUp.id, part), FollowUp.status == "scheduled", FollowUp.deleted_at.is_(None))
            .values(status="cancelled", last_modified=ctx.stamp)
        )


def _agent_made(session: Session, visit_ids: list[str]) -> set[tuple[str | None, str | None]]:
    """(visit, kind) pairs that already have a live follow-up, e.g. one the agent made on the phone."""
    found: set[tuple[str | None, str | None]] = set()
    for part in chunked(sorted(set(visit_ids))):
        found.update(
            (visit_id, kind)
            for visit_id, kind in session.execute(
                select(FollowUp.visit_id, FollowUp.kind).where(
                    in_ids(session, FollowUp.visit_id, part),
                    FollowUp.deleted_at.is_(None),
                    FollowUp.status != "cancelled",
                )
            )
        )
    return found


def cancel_revisits_on_enrolment(
    session: Session, ctx: PushContext, enrollments: list[dict], enrolled_visits: list[dict]
) -> int:
    """The worker enrolled: scheduled revisits about them, their enrolment or its visits are cancelled.

    Only revisits planned before this push, or made by the rules: one the agent plans on the phone with or
    after the enrolment (to collect the KK copy, say) stands.
    """
    # Worker links come from the server's own matching; ids a phone typed into a visit count only when they
    # are the agent's own, so no agent can cancel another agent's revisits by naming their records.
    worker_ids = {e["worker_id"] for e in enrollments if e.get("worker_id")}
    claimed = {v["enrollment_id"] for v in enrolled_visits if v.get("enrollment_id")}
    enrollment_ids = {e["id"] for e in enrollments} | scope.own_enrollment_ids(session, ctx.principal.user_id, claimed)
    visit_ids = {e["visit_id"] for e in enrollments if e.get("visit_id")}
    if worker_ids or enrollment_ids:
        visit_ids |= set(
            session.execute(
                select(Visit.id).where(
                    or_(
                        in_ids(session, Visit.worker_id, worker_ids),
                        in_ids(session, Visit.enrollment_id, enrollment_ids),
                    )
                )
            ).scalars()
        )
    visit_ids -= {v["id"] for v in enrolled_visits}  # the enrolling visit itself needs no revisit anyway
    conditions = []
    if worker_ids:
        conditions.append(in_ids(session, FollowUp.worker_id, worker_ids))
    if enrollment_ids:
        conditions.append(in_ids(session, FollowUp.enrollment_id, enrollment_ids))
    if visit_ids:
        conditions.append(in_ids(session, FollowUp.visit_id, visit_ids))
    if not conditions:
        return 0
    result = session.execute(
        update(FollowUp)
        .where(
            or_(*conditions),
            FollowUp.kind == "revisit",
            FollowUp.status == "scheduled",
            FollowUp.deleted_at.is_(None),
            # Planned before this push, or made by the rules (never the agent's own plan).
            or_(FollowUp.server_created_at < ctx.stamp, FollowUp.created_by_device.is_(None)),
        )
        .values(status="cancelled", last_modified=ctx.stamp)
    )
    return cast(CursorResult, result).rowcount
