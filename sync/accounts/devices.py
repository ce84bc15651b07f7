"""What a supervisor or an admin does with the devices of the users they manage: list, revoke, restore.

A device is a phone or a browser a user logged in from (``sync.accounts.auth``). The caller reaches the
devices of the users it manages only (``sync.accounts.scope.revocable_devices``: a supervisor their own
branch's agents, an admin everyone); anything else is ``NotFound``. Revoking and restoring are written
to the audit trail in the caller's transaction.

Restoring lets the device log in again; it brings no token back (every token revoked with the device
stays revoked), so the user signs in anew.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from sync import audit
from sync.accounts import scope
from sync.accounts.auth import revoke_device
from sync.accounts.principal import Principal
from sync.errors import Forbidden, NotFound
from sync.models import Device
from sync.pagination import Page, paginate


def list_devices(
    session: Session, *, principal: Principal, user_id: str | None, limit: int, cursor: str | None
) -> Page:
    """Devices the caller manages, newest first; ``user_id`` narrows to one user (outside scope: empty)."""
    if principal.is_agent:
        raise Forbidden("agents manage no devices")
    query = select(Device).where(scope.revocable_devices(principal))
    if user_id is not None:
        query = query.where(Device.user_id == user_id)
    return paginate(session, query, sort_column=Device.created_at, id_column=Device.id, limit=limit, cursor=cursor)


def revoke(session: Session, *, principal: Principal, device_id: str) -> Device:
    """Revoke the device and every token bound to it; audited."""
    device = revoke_device(session, principal=principal, device_id=device_id)
    audit.record(
        session,
        principal,
        audit.DEVICE_REVOKE,
        table="devices",
        subject_id=device.id,
        detail={"user_id": device.user_id},
    )
    return device


def restore(session: Session, *, principal: Principal, device_id: str) -> Device:
    """Let a revoked device log in again (its old tokens stay revoked); audited. Not revoked: no change."""
    device = session.execute(
        select(Device).where(Device.id == device_id, scope.revocable_devices(principal))
    ).scalar_one_or_none()
    if device is None:
        raise NotFound("device not found")
    if device.revoked_at is not None:
        device.revoked_at = None
        session.flush()
        audit.record(
            session,
            principal,
            audit.DEVICE_RESTORE,
            table="devices",
            subject_id=device.id,
            detail={"user_id": device.user_id},
        )
    return device


def device_json(device: Device) -> dict:
    return {
        name: getattr(device, name)
        for name in ("id", "user_id", "client_device_id", "name", "created_at", "last_seen_at", "revoked_at")
    }
