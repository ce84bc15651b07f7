"""The synced tables (docs/sync.md (tables)): enrolments, visits, follow-ups and the canonical workers.

Device columns mirror the phone's schema; server columns are set only by the engine. NIK and phone are
stored encrypted with keyed blind indexes beside them (docs/security.md).
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Float, Index, String, Text, func, text
from sqlalchemy.orm import Mapped, mapped_column

from sync.models.base import Base, SyncedMixin


class Worker(SyncedMixin, Base):
    """The canonical person, read-only on phones."""

    __tablename__ = "workers"

    full_name: Mapped[str | None] = mapped_column(String(200))
    nik_encrypted: Mapped[str | None] = mapped_column(Text)
    nik_index: Mapped[str | None] = mapped_column(String(64), index=True)
    nik_masked: Mapped[str | None] = mapped_column(String(32))
    birth_date: Mapped[str | None] = mapped_column(String(10))
    sex: Mapped[str | None] = mapped_column(String(1))
    phone_encrypted: Mapped[str | None] = mapped_column(Text)
    phone_index: Mapped[str | None] = mapped_column(String(64), index=True)
    phone_masked: Mapped[str | None] = mapped_column(String(32))
    occupation: Mapped[str | None] = mapped_column(String(32))
    village: Mapped[str | None] = mapped_column(String(200))
    membership_status: Mapped[str] = mapped_column(String(16), default="registered")
    enrolled_by_agent_id: Mapped[str | None] = mapped_column(String(64), index=True)
    enrolled_at: Mapped[int | None] = mapped_column(BigInteger)
    registry_status: Mapped[str | None] = mapped_column(String(16))  # set when already a BPU member


class Enrollment(SyncedMixin, Base):
    __tablename__ = "enrollments"
    __table_args__ = (
        Index("ix_enrollments_agent_modified", "agent_id", "last_modified"),
        # The supervisors' dashboard (sync.workspace.dashboard): a branch's (or every branch's) arrivals by
        # day, agent and status, from the index alone.
        Index(
            "ix_enrollments_branch_arrived",
            "branch_id",
            "server_created_at",
            postgresql_include=["agent_id", "status"],
            postgresql_where=text("deleted_at IS NULL"),
            sqlite_where=text("deleted_at IS NULL"),
        ),
        Index(
            "ix_enrollments_arrived",
            "server_created_at",
            postgresql_include=["agent_id", "status"],
            postgresql_where=text("deleted_at IS NULL"),
            sqlite_where=text("deleted_at IS NULL"),
        ),
    )

    agent_id: Mapped[str] = mapped_column(String(64), index=True)
    branch_id: Mapped[str | None] = mapped_column(String(64), index=True)
    nik_encrypted: Mapped[str | None] = mapped_column(Text)
    nik_index: Mapped[str | None] = mapped_column(String(64), index=True)
    nik_masked: Mapped[str | None] = mapped_column(String(32))
    full_name: Mapped[str | None] = mapped_column(String(200))
    birth_date: Mapped[str | None] = mapped_column(String(10))
    sex: Mapped[str | None] = mapped_column(String(1))
    phone_encrypted: Mapped[str | None] = mapped_column(Text)
    phone_e164: Mapped[str | None] = mapped_column(Text)
    phone_index: Mapped[str | None] = mapped_column(String(64), index=True)
    phone_masked: Mapped[str | None] = mapped_column(String(32))
    occupation: Mapped[str | None] = mapped_column(String(32))
    address: Mapped[str | None] = mapped_column(Text)
    village: Mapped[str | None] = mapped_column(String(200))
    programs: Mapped[str | None] = mapped_column(String(32))
    monthly_income: Mapped[float | None] = mapped_column(Float)
    visit_id: Mapped[str | None] = mapped_column(String(64))
    captured_at: Mapped[int | None] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(20), index=True)
    status_reason: Mapped[str | None] = mapped_column(Text)
    validation_errors: Mapped[str | None] = mapped_column(Text)
    validation_warnings: Mapped[str | None] = mapped_column(Text)
    worker_id: Mapped[str | None] = mapped_column(String(64), index=True)
    # Stamp of the last change of worker_id: a pull tells a worker entering an agent's scope from one it has.
    worker_linked_at: Mapped[int | None] = mapped_column(BigInteger)
    duplicate_of: Mapped[str | None] = mapped_column(String(64))
    credited_agent_id: Mapped[str | None] = mapped_column(String(64))
    # Stamp at which it became valid (verified or duplicate): the credit goes to the person's earliest one,
    # so an incomplete record pushed early and corrected later cannot take the credit from a complete one.
    valid_since: Mapped[int | None] = mapped_column(BigInteger)


class Visit(SyncedMixin, Base):
    __tablename__ = "visits"
    __table_args__ = (
        Index("ix_visits_agent_modified", "agent_id", "last_modified"),
        Index("ix_visits_branch_visited", "branch_id", "visited_at"),
        Index("ix_visits_lat_lon", "latitude", "longitude"),
        Index("ix_visits_agent_visited", "agent_id", "visited_at"),  # an agent's visits around a time (sync.geo)
        # The map (sync.visits.listing): a bbox is a longitude range first (Indonesia is wide, not tall); the
        # filter columns ride along so PostgreSQL answers a district view from the index alone.
        Index(
            "ix_visits_map",
            "longitude",
            "latitude",
            postgresql_include=["id", "branch_id", "agent_id", "visited_at", "outcome", "flags"],
            postgresql_where=text("deleted_at IS NULL"),
            sqlite_where=text("deleted_at IS NULL"),
        ),
        # A supervisor's branch, newest first (the visit list's order, NULL times first as a backward scan gives
        # them), carrying what the map reads: branch views never touch the table.
        # The flag queue and the dashboard's unreviewed count (sync.workspace.flagged): the ~3 % of visits
        # that carry a flag, by branch and time, with what the count reads (an index-only scan).
        Index(
            "ix_visits_flagged_live",
            "branch_id",
            "visited_at",
            postgresql_include=["id", "flags"],
            postgresql_where=text("flags IS NOT NULL AND deleted_at IS NULL"),
            sqlite_where=text("flags IS NOT NULL AND deleted_at IS NULL"),
        ),
        Index(
            "ix_visits_branch_map",
            "branch_id",
            "visited_at",
            "id",
            postgresql_include=["latitude", "longitude", "agent_id", "outcome", "flags"],
            postgresql_where=text("deleted_at IS NULL"),
            sqlite_where=text("deleted_at IS NULL"),
        ),
    )

    agent_id: Mapped[str] = mapped_column(String(64), index=True)
    branch_id: Mapped[str | None] = mapped_column(String(64))
    enrollment_id: Mapped[str | None] = mapped_column(String(64))
    worker_id: Mapped[str | None] = mapped_column(String(64))
    visited_at: Mapped[int | None] = mapped_column(BigInteger, index=True)
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    accuracy_m: Mapped[float | None] = mapped_column(Float)
    is_mock_location: Mapped[bool | None] = mapped_column(Boolean)
    outcome: Mapped[str | None] = mapped_column(String(20))
    occupation: Mapped[str | None] = mapped_column(String(32))
    notes: Mapped[str | None] = mapped_column(Text)
    province_code: Mapped[str | None] = mapped_column(String(8))
    regency_code: Mapped[str | None] = mapped_column(String(8))
    province: Mapped[str | None] = mapped_column(String(100))
    regency: Mapped[str | None] = mapped_column(String(100))
    timezone: Mapped[str | None] = mapped_column(String(32))
    distance_from_branch_km: Mapped[float | None] = mapped_column(Float)
    flags: Mapped[str | None] = mapped_column(String(200))
    validation_errors: Mapped[str | None] = mapped_column(Text)
    # Server-only, never synced (sync.geo): why each flag was raised (JSON flag → reason), and how the
    # regency was found: "inside" its polygon, or "nearest" polygon within 2 km (approximate), how far.
    flag_reasons: Mapped[str | None] = mapped_column(Text)
    location_match: Mapped[str | None] = mapped_column(String(8))
    location_match_km: Mapped[float | None] = mapped_column(Float)


class FollowUp(SyncedMixin, Base):
    __tablename__ = "follow_ups"
    __table_args__ = (
        Index("ix_follow_ups_agent_modified", "assigned_agent_id", "last_modified"),
        # Overdue and upcoming follow-ups by due time, per branch and overall (sync.workspace); the second
        # also serves the scheduler's missed-follow-up job (status = 'scheduled' AND due_at < cutoff).
        Index(
            "ix_follow_ups_branch_due",
            "branch_id",
            "status",
            "due_at",
            postgresql_where=text("deleted_at IS NULL"),
            sqlite_where=text("deleted_at IS NULL"),
        ),
        Index(
            "ix_follow_ups_due",
            "status",
            "due_at",
            postgresql_where=text("deleted_at IS NULL"),
            sqlite_where=text("deleted_at IS NULL"),
        ),
    )

    enrollment_id: Mapped[str | None] = mapped_column(String(64), index=True)
    worker_id: Mapped[str | None] = mapped_column(String(64))
    visit_id: Mapped[str | None] = mapped_column(String(64), index=True)
    kind: Mapped[str | None] = mapped_column(String(32))
    due_at: Mapped[int | None] = mapped_column(BigInteger)
    status: Mapped[str | None] = mapped_column(String(16))
    outcome_notes: Mapped[str | None] = mapped_column(Text)
    completed_at: Mapped[int | None] = mapped_column(BigInteger)
    assigned_agent_id: Mapped[str | None] = mapped_column(String(64))
    branch_id: Mapped[str | None] = mapped_column(String(64))


# Rows written before ``valid_since`` existed (or by hand) count from their creation.
VALID_SINCE = func.coalesce(Enrollment.valid_since, Enrollment.server_created_at)
