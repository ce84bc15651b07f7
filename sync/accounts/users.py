"""Branches and users: created and changed by admins (CLI and admin API share these rules), listed by scope."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from sync.accounts import scope
from sync.accounts.auth import hash_password
from sync.accounts.principal import Principal
from sync.errors import InvalidRequest
from sync.models import BRANCH_KINDS, ROLES, Branch, User, new_id
from sync.protocol.clock import now_ms

CODE_PATTERN = re.compile(r"^[A-Z0-9][A-Z0-9_-]{1,63}$")
USERNAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{1,99}$")


def create_branch(
    session: Session, *, code: str, name: str, kind: str, lat: float, lon: float, region: str | None = None
) -> Branch:
    errors: dict[str, list[str]] = {}
    if not CODE_PATTERN.match(code):
        errors["code"] = ["uppercase letters, digits, - and _ (e.g. KCU-KARAWANG)"]
    if kind not in BRANCH_KINDS:
        errors["kind"] = [f"must be one of {', '.join(BRANCH_KINDS)}"]
    if not (-11 <= lat <= 6 and 95 <= lon <= 141.1):
        errors["lat"] = ["the branch must lie in Indonesia (lat -11..6, lon 95..141.1)"]
    if not name.strip():
        errors["name"] = ["required"]
    if session.execute(select(Branch.id).where(Branch.code == code)).first():
        errors["code"] = ["a branch with this code exists"]
    if errors:
        raise InvalidRequest("invalid branch", errors=errors)
    branch = Branch(id=new_id(), code=code, name=name.strip(), kind=kind, latitude=lat, longitude=lon, region=region)
    session.add(branch)
    session.flush()
    return branch


def create_user(
    session: Session, *, username: str, password: str, role: str, branch_code: str | None, full_name: str | None = None
) -> User:
    errors: dict[str, list[str]] = {}
    if not USERNAME_PATTERN.match(username):
        errors["username"] = ["lowercase letters, digits, . _ - (2-100 characters)"]
    if role not in ROLES:
        errors["role"] = [f"must be one of {', '.join(ROLES)}"]
    if len(password) < 8:
        errors["password"] = ["at least 8 characters"]
    branch = None
    if branch_code:
        branch = session.execute(select(Branch).where(Branch.code == branch_code)).scalar_one_or_none()
        if branch is None:
            errors["branch"] = [f"no branch with code {branch_code}"]
    elif role != "admin":
        errors["branch"] = ["agents and supervisors belong to a branch"]
    if session.execute(select(User.id).where(User.username == username)).first():
        errors["username"] = ["taken"]
    if errors:
        raise InvalidRequest("invalid user", errors=errors)
    user = User(
        id=new_id(),
        username=username,
        full_name=full_name,
        password_hash=hash_password(password),
        role=role,
        branch_id=branch.id if branch else None,
        active=True,
        created_at=now_ms(),
    )
    session.add(user)
    session.flush()
    return user


def agents_in_scope(session: Session, *, principal: Principal) -> list[User]:
    """The agents whose visits the caller may see (for the map's agent filter)."""
    return list(session.execute(select(User).where(scope.agents(principal)).order_by(User.username)).scalars())
