"""Declarative base shared by the engine and Flask-SQLAlchemy (``SQLAlchemy(model_class=Base)``)."""

from __future__ import annotations

import os
import string
from typing import TYPE_CHECKING, ClassVar

from sqlalchemy import BigInteger, MetaData, String, Table
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

ID_ALPHABET = string.ascii_letters + string.digits


def new_id() -> str:
    """A server-made id in WatermelonDB's own format: 16 characters from ``[0-9a-zA-Z]``.

    One ``os.urandom`` call per id (not one per character); bytes past 247 are dropped so each of the 62
    characters stays equally likely.
    """
    chars: list[str] = []
    while len(chars) < 16:
        chars.extend(ID_ALPHABET[b % 62] for b in os.urandom(24) if b < 248)
    return "".join(chars[:16])


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)

    if TYPE_CHECKING:
        # Every model here is mapped to a plain Table (SQLAlchemy types it as any FromClause).
        __table__: ClassVar[Table]


class SyncedMixin:
    """Columns every synced table carries: server-side change tracking, never phone time."""

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    server_created_at: Mapped[int] = mapped_column(BigInteger)
    last_modified: Mapped[int] = mapped_column(BigInteger, index=True)
    deleted_at: Mapped[int | None] = mapped_column(BigInteger)
    created_by_device: Mapped[str | None] = mapped_column(String(64))
