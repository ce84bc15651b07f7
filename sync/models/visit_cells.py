"""The map's rollup of visits (``sync.visits.rollup``): counts and coordinate sums per fine grid cell.

One row per (cell, branch, agent, UTC day, outcome, flagged) with at least one live visit that has
coordinates and a ``visited_at``. The fine cell is the map's zoom-10 grid cell (``90 / 2**10`` degrees),
so every clustered zoom's cell (``90 / 2**zoom``) is a whole number of fine cells and counts are exact.
Server-only, never synced; rewritten in the push's transaction for the agent days a push touches.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Float, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from sync.models.base import Base


class VisitCell(Base):
    __tablename__ = "visit_cells"
    __table_args__ = (
        Index("ux_visit_cells_key", "agent_id", "day", "cx", "cy", "branch_id", "outcome", "flagged", unique=True),
        Index("ix_visit_cells_day", "day"),
        Index("ix_visit_cells_branch_day", "branch_id", "day"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    cx: Mapped[int] = mapped_column(Integer)  # floor((longitude + 180) / FINE_CELL)
    cy: Mapped[int] = mapped_column(Integer)  # floor((latitude + 90) / FINE_CELL)
    branch_id: Mapped[str | None] = mapped_column(String(64))
    agent_id: Mapped[str] = mapped_column(String(64))
    day: Mapped[int] = mapped_column(Integer)  # floor(visited_at / 86_400_000), UTC
    outcome: Mapped[str | None] = mapped_column(String(20))
    flagged: Mapped[bool] = mapped_column(Boolean)  # flags non-empty
    count: Mapped[int] = mapped_column(Integer)
    sum_lat: Mapped[float] = mapped_column(Float)
    sum_lon: Mapped[float] = mapped_column(Float)
