"""Passwords, device-bound bearer tokens and device revocation (docs/api.md), with no Flask in sight."""

from __future__ import annotations

import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from sync.accounts import scope
from sync.accounts.principal import Principal
from sync.errors import AuthError, NotFound
from sync.models import Device, Token, User, new_id
from sync.protocol.clock import now_ms

TOKEN_TTL_MS = 30 * 86_400_000
_hasher = PasswordHasher()
# Verifying against a real hash for unknown users keeps response times from telling which usernames exist.
_DUMMY_HASH = _hasher.hash("jangkau-dummy-password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def token_digest(token: str) -> str:
    """Tokens carry 256 random bits, so a plain SHA-256 is a safe lookup key."""
    return hashlib.sha256(token.encode()).hexdigest()


def is_known_device(session: Session, *, username: str, device_id: str | None) -> bool:
    """Whether ``username`` has logged in from ``device_id`` before and that device is not revoked."""
    if not device_id:
        return False
    found = session.execute(
        select(Device.id)
        .join(User, User.id == Device.user_id)
        .where(
            User.username == username,
            User.active.is_(True),
            Device.client_device_id == device_id,
            Device.revoked_at.is_(None),
        )
        .limit(1)
    ).first()
    return found is not None


def new_web_device_id() -> str:
    """A device id of its own for each web login, so revoking one ends that session only."""
    return f"web-{secrets.token_hex(8)}"


def login(
    session: Session, *, username: str, password: str, device_id: str | None, device_name: str | None
) -> tuple[str, Token, User]:
    """Check the password, register the device and issue a token bound to it."""
    user = session.execute(select(User).where(User.username == username)).scalar_one_or_none()
    if user is None or not user.active:
        _verify(_DUMMY_HASH, password)
        raise AuthError("invalid username or password")
    if not _verify(user.password_hash, password):
        raise AuthError("invalid username or password")
    now = now_ms()
    client_id = device_id or new_web_device_id()
    device = session.execute(
        select(Device).where(Device.user_id == user.id, Device.client_device_id == client_id)
    ).scalar_one_or_none()
    if device is None:
        device = Device(id=new_id(), user_id=user.id, client_device_id=client_id, name=device_name, created_at=now)
        session.add(device)
    elif device.revoked_at is not None:
        raise AuthError("this device was revoked; ask your supervisor")
    device.last_seen_at = now
    if device_name:
        device.name = device_name
    token = secrets.token_urlsafe(32)
    record = Token(
        id=new_id(),
        token_hash=token_digest(token),
        user_id=user.id,
        device_id=device.id,
        created_at=now,
        expires_at=now + TOKEN_TTL_MS,
    )
    session.add(record)
    session.flush()
    return token, record, user


def authenticate(session: Session, token: str) -> Principal:
    """The principal behind a bearer token, or ``AuthError`` if it is unknown, expired or revoked."""
    row = session.execute(
        select(Token, User, Device)
        .join(User, User.id == Token.user_id)
        .join(Device, Device.id == Token.device_id)
        .where(Token.token_hash == token_digest(token))
    ).one_or_none()
    if row is None:
        raise AuthError("invalid token")
    record, user, device = row
    if record.revoked_at is not None or device.revoked_at is not None or not user.active:
        raise AuthError("token revoked")
    if record.expires_at <= now_ms():
        raise AuthError("token expired")
    return Principal(
        user_id=user.id,
        username=user.username,
        role=user.role,
        branch_id=user.branch_id,
        device_id=device.id,
        token_id=record.id,
    )


def logout(session: Session, principal: Principal) -> None:
    session.execute(update(Token).where(Token.id == principal.token_id).values(revoked_at=now_ms()))


def revoke_device(session: Session, *, principal: Principal, device_id: str) -> Device:
    """Revoke a device and its tokens; a device outside ``scope.revocable_devices`` is 404 (a supervisor
    reaches only the devices of their own branch's agents, never a peer supervisor's or an admin's)."""
    device = session.execute(
        select(Device).where(Device.id == device_id, scope.revocable_devices(principal))
    ).scalar_one_or_none()
    if device is None:
        raise NotFound("device not found")
    now = now_ms()
    device.revoked_at = device.revoked_at or now
    session.execute(
        update(Token).where(Token.device_id == device.id, Token.revoked_at.is_(None)).values(revoked_at=now)
    )
    session.flush()
    return device
