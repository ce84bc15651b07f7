"""Flag review: a supervisor dismisses a flag with a note, or confirms it; every decision is kept.

The visit's ``flags`` stay as the engine computed them (phones see the same value); the review state
lives beside them, so a dismissed flag is still visible as such, with who dismissed it, when and why.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from sync import audit
from sync.accounts.principal import Principal
from sync.errors import InvalidRequest, NotFound
from sync.models import new_id
from sync.models.visit_reviews import VisitFlagReview
from sync.protocol.clock import now_ms
from sync.visits.flags import FLAGS
from sync.visits.listing import flag_reasons, get_visit, split_flags

DECISIONS = {"dismiss": "dismissed", "confirm": "confirmed"}


@dataclass(frozen=True)
class FlagState:
    flag: str
    reason: str
    status: str  # "open", "dismissed" or "confirmed"
    review: VisitFlagReview | None


def review_flag(
    session: Session, *, principal: Principal, visit_id: str, flag: str, decision: str, note: str | None
) -> VisitFlagReview:
    """Record a decision on a flag the visit carries; supervisors reach only their branch (else 404)."""
    if flag not in FLAGS:
        raise InvalidRequest(f"unknown flag {flag!r}", errors={"flag": [f"must be one of {', '.join(FLAGS)}"]})
    if decision not in DECISIONS:
        raise InvalidRequest("unknown decision", errors={"decision": ["must be dismiss or confirm"]})
    note = (note or "").strip() or None
    if decision == "dismiss" and note is None:
        raise InvalidRequest("a dismissal needs a note", errors={"note": ["required to dismiss a flag"]})
    visit = get_visit(session, principal=principal, visit_id=visit_id)
    if flag not in split_flags(visit.flags):
        raise NotFound(f"visit {visit_id} has no flag {flag}")
    review = VisitFlagReview(
        id=new_id(),
        visit_id=visit.id,
        flag=flag,
        decision=DECISIONS[decision],
        note=note,
        reviewed_by=principal.user_id,
        reviewed_by_username=principal.username,
        reviewed_at=now_ms(),
    )
    session.add(review)
    audit.record(
        session, principal, audit.FLAG_DECISIONS[decision], table="visits", subject_id=visit.id, detail={"flag": flag}
    )
    session.flush()
    return review


def reviews_of(session: Session, visit_id: str) -> list[VisitFlagReview]:
    """Every review of a visit, oldest first (the audit trail)."""
    return list(
        session.execute(
            select(VisitFlagReview)
            .where(VisitFlagReview.visit_id == visit_id)
            .order_by(VisitFlagReview.reviewed_at, VisitFlagReview.id)
        ).scalars()
    )


def flag_states(visit, reviews: list[VisitFlagReview]) -> list[FlagState]:
    """Each current flag with its reason and latest decision (flags the engine dropped are not listed)."""
    latest: dict[str, VisitFlagReview] = {}
    for review in reviews:
        latest[review.flag] = review
    return [
        FlagState(flag, reason, latest[flag].decision if flag in latest else "open", latest.get(flag))
        for flag, reason in flag_reasons(visit).items()
    ]
