"""Bookkeeping of the protocol itself: the clock, scope exits, the push archive, idempotency, limits."""

from __future__ import annotations

from sqlalchemy import BigInteger, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from sync.models.base import Base


class SyncClock(Base):
    """One row; ``value`` is the last change stamp handed out (docs/sync.md "The clock")."""

    __tablename__ = "sync_clock"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    value: Mapped[int] = mapped_column(BigInteger)


class ScopeExit(Base):
    """A record that left an agent's scope (a reassigned follow-up, a relinked worker).

    For that agent it is a deletion, reported by the next pull (docs/sync.md "Scope exits").
    """

    __tablename__ = "scope_exits"
    __table_args__ = (Index("ix_scope_exits_agent_stamp", "agent_id", "stamp"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    agent_id: Mapped[str] = mapped_column(String(64))
    table_name: Mapped[str] = mapped_column(String(32))
    record_id: Mapped[str] = mapped_column(String(64))
    stamp: Mapped[int] = mapped_column(BigInteger)


class PushArchive(Base):
    """Every push body, accepted or refused, compressed and sealed, so nothing an agent sent is lost."""

    __tablename__ = "push_archive"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[str | None] = mapped_column(String(64), index=True)
    device_id: Mapped[str | None] = mapped_column(String(64))
    received_at: Mapped[int] = mapped_column(BigInteger, index=True)
    last_pulled_at: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[int] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(200))
    body_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)  # gzip, then AES-GCM (sync.protocol.archive)
    body_bytes: Mapped[int] = mapped_column(BigInteger)
    stamp: Mapped[int | None] = mapped_column(BigInteger)


class IdempotencyRecord(Base):
    """The stored response of a push sent with an ``Idempotency-Key`` (scoped per user)."""

    __tablename__ = "idempotency_keys"

    user_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    status: Mapped[int] = mapped_column(Integer)
    response: Mapped[str] = mapped_column(Text)
    created_at: Mapped[int] = mapped_column(BigInteger)


class RateLimitWindow(Base):
    """A fixed-window request counter shared by every app instance (nothing lives in one process)."""

    __tablename__ = "rate_limits"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    window_start: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    count: Mapped[int] = mapped_column(Integer)


class AccessLog(Base):
    """Append-only log of who viewed or exported personal data (UU PDP breach scoping)."""

    __tablename__ = "access_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[int] = mapped_column(BigInteger, index=True)
    user_id: Mapped[str] = mapped_column(String(64), index=True)
    action: Mapped[str] = mapped_column(String(64))
    subject_table: Mapped[str] = mapped_column(String(32))
    subject_id: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[str | None] = mapped_column(Text)
