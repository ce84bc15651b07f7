"""The branch contest (docs/api.md "Contest"): periods and targets, agents' branch history, maintained credits.

``contest_credits`` holds one row per person who has a live ``verified`` enrolment: which enrolment,
agent and branch the credit goes to, its credit time, and whether it counts now (``counted`` is false
while the person shares a NIK with another live person and no supervisor decided the pair). It is kept
current in the writing transactions (``sync.contest.credit``), so the leaderboard only counts index rows.

``contest_activity`` holds, per period and agent, the first live visit within the period, kept the same
way, so active agents are one index range too. Filling it for a new period reads the period's visits by
time; the index that needs on ``visits`` is declared here, beside its one user.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Boolean, Date, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from sync.models.base import Base
from sync.models.records import Visit


class ContestPeriod(Base):
    """A contest period: whole days ``starts_on``…``ends_on`` (inclusive) in ``timezone``.

    ``starts_at``/``ends_at`` are those days as epoch milliseconds (``ends_at`` exclusive: midnight after
    ``ends_on``), derived when the period is written; overlap checks and counting use them.
    """

    __tablename__ = "contest_periods"
    __table_args__ = (Index("ix_contest_periods_span", "starts_at", "ends_at"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    starts_on: Mapped[dt.date] = mapped_column(Date)
    ends_on: Mapped[dt.date] = mapped_column(Date)
    timezone: Mapped[str] = mapped_column(String(64))
    starts_at: Mapped[int] = mapped_column(BigInteger)
    ends_at: Mapped[int] = mapped_column(BigInteger, index=True)
    created_at: Mapped[int] = mapped_column(BigInteger)
    created_by: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[int] = mapped_column(BigInteger)


class ContestTarget(Base):
    """A branch's target for one period (a whole number of counted enrolments)."""

    __tablename__ = "contest_targets"

    period_id: Mapped[str] = mapped_column(ForeignKey("contest_periods.id"), primary_key=True)
    branch_id: Mapped[str] = mapped_column(ForeignKey("branches.id"), primary_key=True)
    target: Mapped[int] = mapped_column(Integer)


class UserBranchHistory(Base):
    """From ``since`` (ms) on, the user belonged to ``branch_id`` (NULL: to no branch), until the next row.

    Written by ``sync.contest.moves.record_branch_move``, which also sets ``users.branch_id`` to the latest
    row's branch. A user without rows never moved: their branch has always been ``users.branch_id``. Before
    a user's first row, the first row's branch applies (``sync.contest.branches``).
    """

    __tablename__ = "user_branch_history"
    __table_args__ = (Index("ix_user_branch_history_user_since", "user_id", "since"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    branch_id: Mapped[str | None] = mapped_column(ForeignKey("branches.id"))
    since: Mapped[int] = mapped_column(BigInteger)


class ContestCredit(Base):
    """The credit one person earns: their first valid enrolment, its agent and branch, its credit time."""

    __tablename__ = "contest_credits"
    __table_args__ = (
        # The branch table: one index range per period, branch and flag read from the index alone.
        Index("ix_contest_credits_time", "credit_at", "branch_id", "counted"),
        # A branch's agent table.
        Index("ix_contest_credits_branch_time", "branch_id", "credit_at", "agent_id", "counted"),
        # An agent's credits after a branch move.
        Index("ix_contest_credits_agent_since", "agent_id", "valid_since"),
    )

    worker_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    enrollment_id: Mapped[str] = mapped_column(String(64), unique=True)
    agent_id: Mapped[str] = mapped_column(String(64))
    branch_id: Mapped[str | None] = mapped_column(String(64))
    nik_index: Mapped[str | None] = mapped_column(String(64), index=True)
    valid_since: Mapped[int] = mapped_column(BigInteger)
    credit_at: Mapped[int] = mapped_column(BigInteger)
    counted: Mapped[bool] = mapped_column(Boolean)


class ContestActivity(Base):
    """The moment each agent first visited within each period (live visits with a time only).

    An agent is active at ``as_of`` when ``first_visit_at`` < min(``ends_at``, ``as_of``): one index range per
    period instead of the period's visits. Kept by ``sync.contest.activity`` (the push, period writes).
    """

    __tablename__ = "contest_activity"
    __table_args__ = (Index("ix_contest_activity_period_first", "period_id", "first_visit_at", "agent_id"),)

    period_id: Mapped[str] = mapped_column(ForeignKey("contest_periods.id"), primary_key=True)
    agent_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    first_visit_at: Mapped[int] = mapped_column(BigInteger)


# Which agents visited within a time range, from the index alone (a period's ``contest_activity`` filled at
# once): the visits' own indexes lead with the agent or the branch, or need the table for ``deleted_at``.
Index(
    "ix_visits_live_visited_agent",
    Visit.visited_at,
    Visit.agent_id,
    postgresql_where=text("deleted_at IS NULL"),
    sqlite_where=text("deleted_at IS NULL"),
)
