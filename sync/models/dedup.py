"""Duplicate resolution: candidate pairs, decisions (who, when, why), merges to undo, the BPJS registry."""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Float, Index, Integer, String, Text
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


class MatchKey(Base):
    """One blocking key of a live enrolment (``sync.enrollments.duplicates.keys``), as a keyed hash.

    The candidate store: a new record finds the people it may be through the enrolments it shares a key
    with. Written with the enrolment in the push (``sync.enrollments.duplicates.store``), rebuilt by
    ``jangkau rekey-dedup``; rows of deleted enrolments are ignored by matching and purged by the sweep.
    """

    __tablename__ = "match_keys"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    enrollment_id: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)


class DedupSweep(Base):
    """One run of the duplicate sweep (``sync.enrollments.duplicates.sweep``): what it looked at and did.

    The next run re-scores people changed since ``until_stamp`` (less an overlap for pushes still in
    flight when this one read the clock).
    """

    __tablename__ = "dedup_sweeps"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    started_at: Mapped[int] = mapped_column(BigInteger)
    finished_at: Mapped[int] = mapped_column(BigInteger)
    full: Mapped[bool] = mapped_column(Boolean)
    since_stamp: Mapped[int | None] = mapped_column(BigInteger)
    until_stamp: Mapped[int] = mapped_column(BigInteger, index=True)
    keyed: Mapped[int] = mapped_column(Integer)  # enrolments given keys they lacked (data older than the store)
    workers: Mapped[int] = mapped_column(Integer)  # people re-scored
    pairs: Mapped[int] = mapped_column(Integer)  # record pairs compared
    linked: Mapped[int] = mapped_column(Integer)  # people merged into another
    claimed: Mapped[int] = mapped_column(Integer)  # waiting invalid enrolments given their person
    queued: Mapped[int] = mapped_column(Integer)  # open review candidates added
