"""Choices the pages' filters and forms offer, each limited to the caller's scope: branches (admins
only: a supervisor's pages are their branch's) and agents."""

from __future__ import annotations

from sqlalchemy import select

from sync.accounts import scope
from sync.accounts.principal import Principal
from sync.models import Branch, User, Worker

from ...extensions import db
from ..forms import Fields


def branch_options(principal: Principal) -> list[tuple[str, str]]:
    """``(id, "CODE · name")`` of every branch, for an admin's branch filter; nothing for a supervisor."""
    if not principal.is_admin:
        return []
    rows = db.session.execute(select(Branch.id, Branch.code, Branch.name).order_by(Branch.code)).all()
    return [(branch_id, f"{code} · {name}") for branch_id, code, name in rows]


def chosen_branch(fields: Fields, principal: Principal) -> str | None:
    """The branch a page is narrowed to: an admin's ``branch`` argument (none: all), a supervisor's own."""
    if principal.is_admin:
        return fields.identifier("branch")
    return principal.branch_id


def agent_options(principal: Principal, *, active_only: bool = False) -> list[tuple[str, str]]:
    """``(id, name)`` of the agents in scope (``scope.agents``; ``active_only``: ``scope.assignable_agents``)."""
    rule = scope.assignable_agents if active_only else scope.agents
    rows = db.session.execute(
        select(User.id, User.username, User.full_name).where(rule(principal)).order_by(User.username)
    ).all()
    return [(agent_id, f"{full_name or username} ({username})") for agent_id, username, full_name in rows]


def names_of(user_ids) -> dict[str, str]:
    """Display names of users (full name, else username), for lists that show who did what."""
    ids = sorted({u for u in user_ids if u})
    if not ids:
        return {}
    rows = db.session.execute(select(User.id, User.username, User.full_name).where(User.id.in_(ids))).all()
    return {user_id: full_name or username for user_id, username, full_name in rows}


def worker_names(principal: Principal, worker_ids) -> dict[str, str]:
    """Names of the workers among ``worker_ids`` the caller may see (``scope.workers``); others stay unnamed."""
    ids = sorted({w for w in worker_ids if w})
    if not ids:
        return {}
    rows = db.session.execute(select(Worker.id, Worker.full_name).where(Worker.id.in_(ids), scope.workers(principal)))
    return {worker_id: name or "—" for worker_id, name in rows}


def branch_ids_by_code(codes) -> dict[str, str]:
    """``{code: id}`` of the branches named by code (codes that name none are left out)."""
    wanted = sorted(set(codes))
    if not wanted:
        return {}
    return dict(db.session.execute(select(Branch.code, Branch.id).where(Branch.code.in_(wanted))).all())


def branch_codes_by_id(ids) -> dict[str, str]:
    """``{id: code}`` of these branches."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    return dict(db.session.execute(select(Branch.id, Branch.code).where(Branch.id.in_(wanted))).all())
