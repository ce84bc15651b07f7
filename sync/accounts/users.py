"""Branches and users: created by the CLI and the admin API with the same rules, listed and changed by scope.

Who may do what (docs/api.md "Users, devices and branches"): an admin manages every user and branch; a
supervisor lists the users of their own branch and manages its agents only (creates them, renames,
disables, resets their passwords), never a supervisor or an admin, never another branch; an agent
manages nobody. The rules themselves are ``sync.accounts.scope.users`` and ``manageable_users``.

Changes made through the API are written to the audit trail (``sync.audit``) in the same transaction.
A move to another branch goes through ``sync.contest.moves.record_branch_move`` (the branch history the
contest needs: credit already earned stays with the old branch). It revokes no token: the move takes
effect on the user's next request, because a principal is read from the user row on every request.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from sync import audit
from sync.accounts import scope
from sync.accounts.auth import hash_password
from sync.accounts.principal import Principal
from sync.contest.moves import record_branch_move
from sync.errors import Forbidden, InvalidRequest, NotFound
from sync.models import BRANCH_KINDS, ROLES, Branch, User, new_id
from sync.pagination import Page, paginate
from sync.protocol.clock import now_ms

CODE_PATTERN = re.compile(r"^[A-Z0-9][A-Z0-9_-]{1,63}$")
USERNAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{1,99}$")
MIN_PASSWORD_CHARS = 8
BRANCH_FIELDS = ("code", "name", "kind", "latitude", "longitude", "region")


# --- branches ---------------------------------------------------------------------------------------


def _branch_errors(session: Session, values: dict, *, branch_id: str | None = None) -> dict[str, list[str]]:
    """What is wrong with a branch's ``values`` (all of them for a new branch, the changed ones for an edit)."""
    errors: dict[str, list[str]] = {}
    if "code" in values:
        code = values["code"]
        if not CODE_PATTERN.match(code):
            errors["code"] = ["uppercase letters, digits, - and _ (e.g. KCU-KARAWANG)"]
        elif session.execute(select(Branch.id).where(Branch.code == code, Branch.id != (branch_id or ""))).first():
            errors["code"] = ["a branch with this code exists"]
    if "kind" in values and values["kind"] not in BRANCH_KINDS:
        errors["kind"] = [f"must be one of {', '.join(BRANCH_KINDS)}"]
    if "latitude" in values and not -11 <= values["latitude"] <= 6:
        errors["latitude"] = ["the branch must lie in Indonesia (latitude -11..6)"]
    if "longitude" in values and not 95 <= values["longitude"] <= 141.1:
        errors["longitude"] = ["the branch must lie in Indonesia (longitude 95..141.1)"]
    if "name" in values and not (values["name"] or "").strip():
        errors["name"] = ["required"]
    return errors


def create_branch(
    session: Session, *, code: str, name: str, kind: str, lat: float, lon: float, region: str | None = None
) -> Branch:
    """A new branch office (the CLI's ``create-branch``; the API's ``add_branch`` checks the caller first)."""
    values = {"code": code, "name": name, "kind": kind, "latitude": lat, "longitude": lon, "region": region}
    errors = _branch_errors(session, values)
    if errors:
        raise InvalidRequest("invalid branch", errors=errors)
    branch = Branch(id=new_id(), code=code, name=name.strip(), kind=kind, latitude=lat, longitude=lon, region=region)
    session.add(branch)
    session.flush()
    return branch


def _require_admin(principal: Principal) -> None:
    if not principal.is_admin:
        raise Forbidden("only admins manage branches")


def list_branches(session: Session, *, principal: Principal, limit: int, cursor: str | None) -> Page:
    """Every branch by code (supervisors see them all, like the leaderboard does; agents none)."""
    if principal.is_agent:
        raise Forbidden("agents do not list branches")
    query = select(Branch)
    return paginate(
        session, query, sort_column=Branch.code, id_column=Branch.id, limit=limit, cursor=cursor, descending=False
    )


def add_branch(session: Session, *, principal: Principal, values: dict) -> Branch:
    """An admin creates a branch (``values``: ``code, name, kind, latitude, longitude`` and ``region``)."""
    _require_admin(principal)
    branch = create_branch(
        session,
        code=values["code"],
        name=values["name"],
        kind=values["kind"],
        lat=values["latitude"],
        lon=values["longitude"],
        region=values.get("region"),
    )
    audit.record(session, principal, audit.BRANCH_CREATE, table="branches", subject_id=branch.id)
    return branch


def update_branch(session: Session, *, principal: Principal, branch_id: str, changes: dict) -> Branch:
    """An admin changes a branch's code, name, kind, location or region; unknown id: ``NotFound``."""
    _require_admin(principal)
    branch = session.get(Branch, branch_id)
    if branch is None:
        raise NotFound("no such branch")
    changes = {name: value for name, value in changes.items() if name in BRANCH_FIELDS}
    errors = _branch_errors(session, changes, branch_id=branch.id)
    if errors:
        raise InvalidRequest("invalid branch", errors=errors)
    changed = sorted(name for name, value in changes.items() if getattr(branch, name) != value)
    for name in changed:
        setattr(branch, name, changes[name].strip() if name == "name" else changes[name])
    session.flush()
    if changed:
        audit.record(
            session, principal, audit.BRANCH_UPDATE, table="branches", subject_id=branch.id, detail={"fields": changed}
        )
    return branch


def branch_json(branch: Branch) -> dict:
    return {name: getattr(branch, name) for name in ("id", *BRANCH_FIELDS)}


# --- users ------------------------------------------------------------------------------------------


def _account_errors(session: Session, *, username: str, password: str, role: str) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if not USERNAME_PATTERN.match(username):
        errors["username"] = ["lowercase letters, digits, . _ - (2-100 characters)"]
    elif session.execute(select(User.id).where(User.username == username)).first():
        errors["username"] = ["taken"]
    if role not in ROLES:
        errors["role"] = [f"must be one of {', '.join(ROLES)}"]
    if len(password) < MIN_PASSWORD_CHARS:
        errors["password"] = [f"at least {MIN_PASSWORD_CHARS} characters"]
    return errors


def _new_user(
    session: Session, *, username: str, password: str, role: str, branch_id: str | None, full_name: str | None
) -> User:
    user = User(
        id=new_id(),
        username=username,
        full_name=(full_name or "").strip() or None,
        password_hash=hash_password(password),
        role=role,
        branch_id=branch_id,  # a user with no branch history has always been here (sync.contest.branches)
        active=True,
        created_at=now_ms(),
    )
    session.add(user)
    session.flush()
    session.expire(user, ["branch"])  # loaded again on first use, as the branch just set
    return user


def create_user(
    session: Session, *, username: str, password: str, role: str, branch_code: str | None, full_name: str | None = None
) -> User:
    """A new user named with a branch code (the CLI's ``create-user`` and the demo seed)."""
    errors = _account_errors(session, username=username, password=password, role=role)
    branch = None
    if branch_code:
        branch = session.execute(select(Branch).where(Branch.code == branch_code)).scalar_one_or_none()
        if branch is None:
            errors["branch"] = [f"no branch with code {branch_code}"]
    elif role != "admin":
        errors["branch"] = ["agents and supervisors belong to a branch"]
    if errors:
        raise InvalidRequest("invalid user", errors=errors)
    return _new_user(
        session,
        username=username,
        password=password,
        role=role,
        branch_id=branch.id if branch else None,
        full_name=full_name,
    )


def _supervisor_limits(principal: Principal, role: str | None, branch_id: str | None) -> None:
    """A supervisor gives no role but ``agent`` and no branch but their own (403 naming the field)."""
    if principal.is_admin:
        return
    errors = {}
    if role is not None and role != "agent":
        errors["role"] = ["a supervisor manages agents only"]
    if branch_id is not None and branch_id != principal.branch_id:
        errors["branch_id"] = ["a supervisor manages their own branch only"]
    if errors:
        raise Forbidden("outside what a supervisor may manage", errors=errors)


def _branch_errors_for(session: Session, role: str, branch_id: str | None) -> dict[str, list[str]]:
    if branch_id is None:
        return {} if role == "admin" else {"branch_id": ["agents and supervisors belong to a branch"]}
    if session.get(Branch, branch_id) is None:
        return {"branch_id": ["no such branch"]}
    return {}


def add_user(session: Session, *, principal: Principal, values: dict) -> User:
    """A user created through the API: an admin any, a supervisor an agent of their own branch (the
    default branch for a supervisor's new user). ``values``: ``username, password, role`` and optional
    ``branch_id, full_name``."""
    if principal.is_agent:
        raise Forbidden("agents manage no users")
    role = values["role"]
    branch_id = values.get("branch_id")
    _supervisor_limits(principal, role, branch_id)
    if not principal.is_admin:
        branch_id = principal.branch_id
    errors = _account_errors(session, username=values["username"], password=values["password"], role=role)
    errors |= _branch_errors_for(session, role, branch_id)
    if errors:
        raise InvalidRequest("invalid user", errors=errors)
    user = _new_user(
        session,
        username=values["username"],
        password=values["password"],
        role=role,
        branch_id=branch_id,
        full_name=values.get("full_name"),
    )
    audit.record(
        session,
        principal,
        audit.USER_CREATE,
        table="users",
        subject_id=user.id,
        detail={"role": role, "branch_id": branch_id},
    )
    return user


def manageable_user(session: Session, *, principal: Principal, user_id: str) -> User:
    """A user the caller may manage (``sync.accounts.scope.manageable_users``), else ``NotFound``."""
    user = session.execute(
        select(User).where(User.id == user_id, scope.manageable_users(principal))
    ).scalar_one_or_none()
    if user is None:
        raise NotFound("no such user")
    return user


def update_user(session: Session, *, principal: Principal, user_id: str, changes: dict) -> User:
    """Change ``role``, ``branch_id``, ``full_name``, ``disabled`` or ``password`` (a reset) of a user the
    caller manages. Nobody demotes or disables themselves (an admin could lock every admin out)."""
    user = manageable_user(session, principal=principal, user_id=user_id)
    _supervisor_limits(principal, changes.get("role"), changes.get("branch_id"))
    role = changes.get("role") or user.role
    branch_id = changes["branch_id"] if "branch_id" in changes else user.branch_id
    errors: dict[str, list[str]] = {}
    if role not in ROLES:
        errors["role"] = [f"must be one of {', '.join(ROLES)}"]
    elif "role" in changes or "branch_id" in changes:
        errors |= _branch_errors_for(session, role, branch_id)
    if "password" in changes and len(changes["password"]) < MIN_PASSWORD_CHARS:
        errors["password"] = [f"at least {MIN_PASSWORD_CHARS} characters"]
    if user.id == principal.user_id:
        if role != user.role:
            errors["role"] = ["you cannot change your own role"]
        if changes.get("disabled"):
            errors["disabled"] = ["you cannot disable your own account"]
    if errors:
        raise InvalidRequest("invalid change", errors=errors)
    detail: dict = {}
    if role != user.role:
        detail["role"] = {"from": user.role, "to": role}
        user.role = role
    if branch_id != user.branch_id:
        detail["branch_id"] = {"from": user.branch_id, "to": branch_id}
        record_branch_move(session, user.id, branch_id)  # history for the contest: past credit stays put
    if "full_name" in changes:
        full_name = (changes["full_name"] or "").strip() or None
        if full_name != user.full_name:
            detail["full_name"] = "changed"
            user.full_name = full_name
    if "disabled" in changes and changes["disabled"] is not None and user.active == changes["disabled"]:
        detail["disabled"] = changes["disabled"]
        user.active = not changes["disabled"]
    if "password" in changes:
        detail["password"] = "reset"
        user.password_hash = hash_password(changes["password"])
    session.flush()
    session.expire(user, ["branch"])
    if detail:
        audit.record(session, principal, audit.USER_UPDATE, table="users", subject_id=user.id, detail=detail)
    return user


@dataclass(frozen=True)
class UserFilters:
    """The filters of ``GET /users``; ``None`` means "any"."""

    role: str | None = None
    branch_id: str | None = None
    disabled: bool | None = None


def list_users(session: Session, *, principal: Principal, filters: UserFilters, limit: int, cursor: str | None) -> Page:
    """Users in the caller's scope (``sync.accounts.scope.users``) by username; agents list nobody (403)."""
    if principal.is_agent:
        raise Forbidden("agents list no users")
    query = select(User).where(scope.users(principal))
    if filters.role is not None:
        query = query.where(User.role == filters.role)
    if filters.branch_id is not None:
        query = query.where(User.branch_id == filters.branch_id)
    if filters.disabled is not None:
        query = query.where(User.active.is_(not filters.disabled))
    return paginate(
        session, query, sort_column=User.username, id_column=User.id, limit=limit, cursor=cursor, descending=False
    )


def user_json(user: User) -> dict:
    """A user as the admin API shows it (never the password hash)."""
    return {
        "id": user.id,
        "username": user.username,
        "full_name": user.full_name,
        "role": user.role,
        "branch_id": user.branch_id,
        "branch_code": user.branch.code if user.branch else None,
        "disabled": not user.active,
        "created_at": user.created_at,
    }


def agents_in_scope(session: Session, *, principal: Principal) -> list[User]:
    """The agents whose visits the caller may see (for the map's agent filter)."""
    return list(session.execute(select(User).where(scope.agents(principal)).order_by(User.username)).scalars())
