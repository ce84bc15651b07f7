"""The push archive: every body an agent sent, with who, when and what came of it (docs/sync.md "Push").

Bodies hold NIKs and phones, so they are stored gzip-compressed and then sealed with the personal-data
keys (AES-GCM, key id prefix, rotation like the columns; docs/security.md). The user, device and receipt
time are the associated data: a sealed body copied onto another row does not open.
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from typing import cast

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from sync.models import PushArchive
from sync.pii import PiiProtector
from sync.protocol.clock import now_ms
from sync.protocol.sanitize import storable_text

MAX_ARCHIVED_BYTES = 32 * 1024 * 1024
GZIP_MAGIC = b"\x1f\x8b"
# Both are String(n) columns; TypeEngine does not declare .length.
OUTCOME_LENGTH: int = PushArchive.__table__.c.outcome.type.length  # type: ignore[attr-defined]
LAST_PULLED_LENGTH: int = PushArchive.__table__.c.last_pulled_at.type.length  # type: ignore[attr-defined]


def _context(user_id: str | None, device_id: str | None, received_at: int) -> str:
    return f"push_archive:{user_id or ''}:{device_id or ''}:{received_at}"


def archive_push(
    session: Session,
    *,
    pii: PiiProtector,
    user_id: str | None,
    device_id: str | None,
    body: bytes,
    compressed: bool,
    last_pulled_at: str | None,
    status: int,
    outcome: str,
    stamp: int | None = None,
) -> None:
    """Store the body compressed (as received when it came gzip) and sealed; oversized ones by size only."""
    received_at = now_ms()
    sealed = None
    if len(body) <= MAX_ARCHIVED_BYTES:
        packed = body if compressed else gzip.compress(body, compresslevel=5)
        sealed = pii.seal(packed, context=_context(user_id, device_id, received_at))
    session.add(
        PushArchive(
            user_id=user_id,
            device_id=device_id,
            received_at=received_at,
            status=status,
            outcome=storable_text(outcome, OUTCOME_LENGTH) or "",
            body_sealed=sealed,
            body_bytes=len(body),
            last_pulled_at=storable_text(last_pulled_at, LAST_PULLED_LENGTH),
            stamp=stamp,
        )
    )


@dataclass(frozen=True)
class ArchivedPush:
    id: int
    user_id: str | None
    device_id: str | None
    received_at: int
    status: int
    outcome: str
    body: bytes | None  # the request body as the phone sent it (decompressed), None if too large to keep


def read_archived(session: Session, pii: PiiProtector, archive_id: int) -> ArchivedPush | None:
    """One archived push opened for an admin (``jangkau push-archive show``); bodies sealed before
    encryption existed (plain gzip) are read as they are."""
    row = session.get(PushArchive, archive_id)
    if row is None:
        return None
    body = None
    if row.body_sealed is not None:
        packed = _open(pii, row)
        body = gzip.decompress(packed) if packed[:2] == GZIP_MAGIC else packed
    return ArchivedPush(row.id, row.user_id, row.device_id, row.received_at, row.status, row.outcome, body)


def _open(pii: PiiProtector, row: PushArchive) -> bytes:
    blob = bytes(cast(bytes, row.body_sealed))  # only rows with a body come here
    if blob[:2] == GZIP_MAGIC:
        return blob  # archived before bodies were sealed
    return pii.open(blob, context=_context(row.user_id, row.device_id, row.received_at))


def reseal_batch(session: Session, pii: PiiProtector, *, after_id: int, batch: int = 500) -> tuple[int | None, int]:
    """Seal the next ``batch`` bodies that are plain gzip or under an older key with the current key.

    Returns ``(last id looked at or None when done, rows changed)``; the caller commits between batches,
    so the command can be stopped and resumed (rows already under the current key are skipped).
    """
    rows = (
        session.execute(
            select(PushArchive)
            .where(PushArchive.id > after_id, PushArchive.body_sealed.is_not(None))
            .order_by(PushArchive.id)
            .limit(batch)
        )
        .scalars()
        .all()
    )
    if not rows:
        return None, 0
    prefix = pii.current_key_id.encode() + b":"
    changed = 0
    for row in rows:
        if bytes(cast(bytes, row.body_sealed)).startswith(prefix):  # selected with a body
            continue
        context = _context(row.user_id, row.device_id, row.received_at)
        session.execute(
            update(PushArchive)
            .where(PushArchive.id == row.id)
            .values(body_sealed=pii.seal(_open(pii, row), context=context))
        )
        changed += 1
    return rows[-1].id, changed
