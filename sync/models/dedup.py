"""Duplicate resolution: candidate pairs, decisions (who, when, why), merges to undo, the BPJS registry."""

from __future__ import annotations

from sqlalchemy import BigInteger, Float, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from sync.models.base import Base


class DuplicateCandidate(Base):
    """A later enrolment's person that resembles an earlier one.

    ``open``: in the supervisor's review queue (both enrolments stay as they are); ``merged``: the two
    are one person (an automatic link has ``decided_by`` NULL); ``distinct``: two people, never proposed
    again.
    """

    __tablename__ = "duplicate_candidates"
    __table_args__ = (
        Index("ix_duplicate_candidates_status_created", "status", "created_at"),
        Index("ix_duplicate_candidates_pair", "worker_id", "other_worker_id"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    enrollment_id: Mapped[str] = mapped_column(String(64), index=True)
    worker_id: Mapped[str | None] = mapped_column(String(64), index=True)
    other_worker_id: Mapped[str] = mapped_column(String(64), index=True)
    other_enrollment_id: Mapped[str | None] = mapped_column(String(64))
    branch_id: Mapped[str | None] = mapped_column(String(64), index=True)
    other_branch_id: Mapped[str | None] = mapped_column(String(64), index=True)
    score: Mapped[float] = mapped_column(Float)
    match_weight: Mapped[float] = mapped_column(Float)
    reasons: Mapped[str] = mapped_column(Text)  # JSON list of strings
    levels: Mapped[str | None] = mapped_column(Text)  # JSON field → level
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[int] = mapped_column(BigInteger)
    decided_at: Mapped[int | None] = mapped_column(BigInteger)
    decided_by: Mapped[str | None] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(Text)
    merge_id: Mapped[str | None] = mapped_column(String(64))


class DedupDecision(Base):
    """Append-only audit of every duplicate decision: automatic links, merges, distinct, unmerges."""

    __tablename__ = "dedup_decisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    candidate_id: Mapped[str | None] = mapped_column(String(64), index=True)
    merge_id: Mapped[str | None] = mapped_column(String(64), index=True)
    action: Mapped[str] = mapped_column(String(16))  # auto_link, merge, distinct, unmerge
    user_id: Mapped[str | None] = mapped_column(String(64))  # NULL: the matching engine
    at: Mapped[int] = mapped_column(BigInteger)
    stamp: Mapped[int] = mapped_column(BigInteger)
    note: Mapped[str | None] = mapped_column(Text)


class WorkerMerge(Base):
    """One merge of a person into another, with the state needed to undo it exactly.

    ``snapshot`` (JSON) holds the moved enrolments' and the absorbed worker's columns before the merge,
    and the candidates re-pointed by it. ``absorbed_worker_id`` is NULL for an automatic link at push
    time (the enrolment never had a person of its own; unmerging creates one).
    """

    __tablename__ = "worker_merges"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    survivor_worker_id: Mapped[str] = mapped_column(String(64), index=True)
    absorbed_worker_id: Mapped[str | None] = mapped_column(String(64), index=True)
    candidate_id: Mapped[str | None] = mapped_column(String(64))
    snapshot: Mapped[str] = mapped_column(Text)
    created_at: Mapped[int] = mapped_column(BigInteger)
    created_by: Mapped[str | None] = mapped_column(String(64))
    undone_at: Mapped[int | None] = mapped_column(BigInteger)
    undone_by: Mapped[str | None] = mapped_column(String(64))


class RegistryEntry(Base):
    """An existing BPJS participant (imported CSV): new enrolments of these people are duplicates."""

    __tablename__ = "registry_entries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    nik_index: Mapped[str] = mapped_column(String(64), unique=True)
    nik_masked: Mapped[str] = mapped_column(String(32))
    full_name: Mapped[str | None] = mapped_column(String(200))
    birth_date: Mapped[str | None] = mapped_column(String(10))
    membership_status: Mapped[str] = mapped_column(String(16))
    imported_at: Mapped[int] = mapped_column(BigInteger)
    imported_by: Mapped[str | None] = mapped_column(String(64))


class UnlinkedEnrollment(Base):
    """An invalid enrolment no known person matched yet, with its blocking keys.

    Invalid enrolments never create a person, so one pushed before the person's first valid enrolment
    would stay alone for good. The person's later enrolments look these up by the same keys as workers
    and claim the ones they match. A row leaves when its enrolment is claimed, corrected or re-pushed.
    """

    __tablename__ = "unlinked_enrollments"

    enrollment_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    nik_index: Mapped[str | None] = mapped_column(String(64), index=True)
    nik_head_index: Mapped[str | None] = mapped_column(String(64), index=True)
    nik_tail_index: Mapped[str | None] = mapped_column(String(64), index=True)
    phone_index: Mapped[str | None] = mapped_column(String(64), index=True)
    name_key: Mapped[str | None] = mapped_column(String(64), index=True)
    name_dob_key: Mapped[str | None] = mapped_column(String(64), index=True)
    dob_village_key: Mapped[str | None] = mapped_column(String(64), index=True)
