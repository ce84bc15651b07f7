"""Logins and failed logins in the audit trail (``sync.audit``), for both login forms (API and web).

A successful login is recorded in the login's own unit of work, with the device and token it creates.
A failed one writes nothing else and its unit is rolled back, so it is committed on its own, in the side
transaction the login's rate-limit counters use (``server.unit_of_work``: "rate-limit counters"), which
exists for exactly this: a refused login must leave its trace whatever the request does next.

Logins refused by the rate limits (429) are not recorded one by one: the counters are their record, and
an attacker hammering past a limit must not be able to grow the trail without bound.
"""

from __future__ import annotations

from sqlalchemy import select

from sync import audit
from sync.models import Token, User

from .auth import client_ip
from .extensions import db
from .unit_of_work import side_transaction


def succeeded(user: User, token: Token, *, via: str) -> None:
    """Record a login in the current unit of work (``via``: ``api`` or ``web``)."""
    audit.record(
        db.session,
        user.id,
        audit.LOGIN,
        table="devices",
        subject_id=token.device_id,
        detail={"via": via, "ip": client_ip()},
    )


def failed(username: str, *, via: str) -> None:
    """Commit a failed login on its own. The login's unit wrote nothing (``sync.accounts.auth.login``
    refuses before it writes), so whatever it read is ended first."""
    db.session.rollback()
    with side_transaction("rate-limit counters"):
        user_id = db.session.execute(select(User.id).where(User.username == username)).scalar_one_or_none()
        audit.record(
            db.session,
            user_id or audit.ANONYMOUS,
            audit.LOGIN_FAILED,
            table="users",
            subject_id=user_id,
            detail={"via": via, "ip": client_ip()},
        )
