"""The audit trail (docs/api.md "Audit"): who did what, to which record, when; append-only, for admins.

Entries live in the ``access_log`` table, which already held the personal-data views. Each entry is added
to the session of the action it records, so it commits with that action and disappears with it when the
action is rolled back: the trail never tells of something that did not happen. A failed login writes
nothing else, so it is committed on its own (``server/login_audit.py``).

Nothing here updates or deletes an entry. ``detail`` is a small JSON object of ids, counts, filters and
field names: never a NIK, a phone number, a password or a free-text note (those stay in their own rows,
encrypted or scoped).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from sync.accounts import scope
from sync.accounts.principal import Principal
from sync.errors import InvalidRequest
from sync.models import AccessLog, User
from sync.pagination import Page, decode_cursor, encode_cursor
from sync.protocol.clock import now_ms

# --- action names: the one list (``GET /audit?action=`` filters by them) ----------------------------

VIEW_NIK = "view_nik"  # an admin read a person's full NIK (sync.enrollments.duplicates.review.worker_detail)
PUSH_ARCHIVE_VIEW = "push_archive.view"  # an operator read an archived push body (jangkau push-archive show)
EXPORT_VISITS = "export.visits"
EXPORT_ENROLLMENTS = "export.enrollments"
DUPLICATE_MERGE = "duplicate.merge"
DUPLICATE_DISTINCT = "duplicate.distinct"
WORKER_UNMERGE = "worker.unmerge"
FLAG_DISMISS = "visit_flag.dismiss"
FLAG_CONFIRM = "visit_flag.confirm"
FOLLOW_UP_REASSIGN = "follow_up.reassign"
DEVICE_REVOKE = "device.revoke"
DEVICE_RESTORE = "device.restore"
IMPORT_PAYMENTS = "import.payments"
IMPORT_REGISTRY = "import.registry"
LOGIN = "login"
LOGIN_FAILED = "login.failed"
USER_CREATE = "user.create"
USER_UPDATE = "user.update"
BRANCH_CREATE = "branch.create"
BRANCH_UPDATE = "branch.update"

ACTIONS = (
    VIEW_NIK,
    PUSH_ARCHIVE_VIEW,
    EXPORT_VISITS,
    EXPORT_ENROLLMENTS,
    DUPLICATE_MERGE,
    DUPLICATE_DISTINCT,
    WORKER_UNMERGE,
    FLAG_DISMISS,
    FLAG_CONFIRM,
    FOLLOW_UP_REASSIGN,
    DEVICE_REVOKE,
    DEVICE_RESTORE,
    IMPORT_PAYMENTS,
    IMPORT_REGISTRY,
    LOGIN,
    LOGIN_FAILED,
    USER_CREATE,
    USER_UPDATE,
    BRANCH_CREATE,
    BRANCH_UPDATE,
)
FLAG_DECISIONS = {"dismiss": FLAG_DISMISS, "confirm": FLAG_CONFIRM}
DUPLICATE_DECISIONS = {"merge": DUPLICATE_MERGE, "distinct": DUPLICATE_DISTINCT}
# The actor of a failed login whose username names no account (what was typed is not kept: it may be a
# password typed into the wrong field).
ANONYMOUS = "anonymous"


def record(
    session: Session,
    actor: Principal | str,
    action: str,
    *,
    table: str,
    subject_id: str | None = None,
    detail: dict | None = None,
) -> AccessLog:
    """Add one entry to ``session``: it commits, or rolls back, with the action it records.

    ``actor`` is the caller (or an actor id such as ``ANONYMOUS``); ``table`` and ``subject_id`` name the
    record acted on; ``detail`` is JSON of ids, counts and filters, never personal data.
    """
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}: add it to sync.audit.ACTIONS")
    entry = AccessLog(
        at=now_ms(),
        user_id=(actor.user_id if isinstance(actor, Principal) else actor)[:64],
        action=action,
        subject_table=table,
        subject_id=subject_id,
        detail=json.dumps(detail, separators=(",", ":"), sort_keys=True) if detail else None,
    )
    session.add(entry)
    return entry


# --- the admins' list -------------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditFilters:
    """The filters of ``GET /audit``; ``None`` means "any". Times are epoch ms, both ends inclusive."""

    actor_id: str | None = None
    action: str | None = None
    date_from: int | None = None
    date_to: int | None = None


def _invalid_cursor() -> InvalidRequest:
    return InvalidRequest("cursor is not valid", errors={"cursor": ["not a cursor from this API"]})


def list_entries(
    session: Session, *, principal: Principal, filters: AuditFilters, limit: int, cursor: str | None
) -> Page:
    """Entries newest first (by their append order), as ``(AccessLog, actor username or None)`` rows.

    Only admins reach the trail (``sync.accounts.scope.audit_entries``): anyone else gets an empty page.
    """
    query = (
        select(AccessLog, User.username)
        .outerjoin(User, User.id == AccessLog.user_id)
        .where(scope.audit_entries(principal))
    )
    if filters.actor_id is not None:
        query = query.where(AccessLog.user_id == filters.actor_id)
    if filters.action is not None:
        query = query.where(AccessLog.action == filters.action)
    if filters.date_from is not None:
        query = query.where(AccessLog.at >= filters.date_from)
    if filters.date_to is not None:
        query = query.where(AccessLog.at <= filters.date_to)
    after = decode_cursor(cursor)
    if after is not None:
        last, echo = after  # the entry id twice: as the key, and as the text ``decode_cursor`` wants
        if type(last) is not int or echo != str(last):
            raise _invalid_cursor()
        query = query.where(AccessLog.id < last)
    rows = list(session.execute(query.order_by(AccessLog.id.desc()).limit(limit + 1)))
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last_id = rows[-1][0].id
        next_cursor = encode_cursor([last_id, str(last_id)])
    return Page(rows, next_cursor)


def detail_of(entry: AccessLog) -> dict:
    """The entry's detail as an object (entries written before this module kept plain text: ``note``)."""
    if not entry.detail:
        return {}
    try:
        loaded = json.loads(entry.detail)
    except ValueError:
        return {"note": entry.detail}
    return loaded if isinstance(loaded, dict) else {"note": entry.detail}


def entries_json(rows: list) -> list[dict]:
    """``list_entries`` rows as the API answers them."""
    return [
        {
            "id": entry.id,
            "at": entry.at,
            "actor_id": entry.user_id,
            "actor_username": username,
            "action": entry.action,
            "subject_table": entry.subject_table,
            "subject_id": entry.subject_id,
            "detail": detail_of(entry),
        }
        for entry, username in rows
    ]
