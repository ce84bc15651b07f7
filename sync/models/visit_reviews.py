"""Supervisors' decisions on visit flags: append-only, the latest decision per flag is its state."""

from __future__ import annotations

from sqlalchemy import BigInteger, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from sync.models.base import Base


class VisitFlagReview(Base):
    """One review of one flag of one visit: who decided what, when, and why (never updated)."""

    __tablename__ = "visit_flag_reviews"
    __table_args__ = (Index("ix_visit_flag_reviews_visit_flag", "visit_id", "flag", "reviewed_at"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    visit_id: Mapped[str] = mapped_column(String(64))
    flag: Mapped[str] = mapped_column(String(32))
    decision: Mapped[str] = mapped_column(String(16))  # "dismissed" or "confirmed"
    note: Mapped[str | None] = mapped_column(Text)
    reviewed_by: Mapped[str] = mapped_column(String(64))  # users.id
    reviewed_by_username: Mapped[str] = mapped_column(String(100))
    reviewed_at: Mapped[int] = mapped_column(BigInteger)
