"""``Idempotency-Key`` replays: the first response per (user, key) is stored with a body fingerprint.

The lookup runs after the push took the sync clock's lock, so two concurrent requests with one key are
serialised: the second finds the first's stored response instead of applying the batch again.
"""

from __future__ import annotations

import hashlib
import json

from sqlalchemy import select
from sqlalchemy.orm import Session

from sync.errors import InvalidRequest
from sync.models import IdempotencyRecord
from sync.protocol.clock import now_ms


def fingerprint(payload: object) -> str:
    """A stable hash of the request's meaning (key order and whitespace do not matter)."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def stored_response(session: Session, *, user_id: str, key: str, print_: str) -> tuple[int, dict] | None:
    record = session.execute(
        select(IdempotencyRecord).where(IdempotencyRecord.user_id == user_id, IdempotencyRecord.key == key)
    ).scalar_one_or_none()
    if record is None:
        return None
    if record.fingerprint != print_:
        raise InvalidRequest(
            "this Idempotency-Key was already used with a different request body",
            errors={"Idempotency-Key": ["already used with a different body"]},
        )
    return record.status, json.loads(record.response)


def remember_response(session: Session, *, user_id: str, key: str, print_: str, status: int, body: dict) -> None:
    session.add(
        IdempotencyRecord(
            user_id=user_id, key=key, fingerprint=print_, status=status, response=json.dumps(body), created_at=now_ms()
        )
    )
