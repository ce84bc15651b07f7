"""Transactions at the HTTP boundary: one unit of work per request, the few side transactions named.

``sync/`` never commits; the HTTP layer decides, through this module only. Every route that touches the
database says what it does:

- ``@writes`` (or ``with unit_of_work():``): commit when the view returns, roll back and re-raise when it
  raises (the error handlers then answer problem+json). A write that fails late leaves nothing behind.
- ``@reads`` (or ``with read_only():``): always roll back at the end, success or error, so no transaction
  is left open; a commit inside is refused (``ReadOnlyCommit``).
- ``side_transaction(name)``: a write committed on its own, outside the request's unit. Only the names in
  ``SIDE_TRANSACTIONS`` exist, each with its reason.

Put ``@reads``/``@writes`` directly under ``@blp.route`` (``@bp.route`` for pages): the unit then covers
argument parsing, authentication, the view and the serialising of its response (an ORM object dumped by
``@blp.response`` is read inside the transaction, not lazily after it). ``functools.wraps`` carries
flask-smorest's ``_apidoc``, so the OpenAPI document is unchanged.

There is one session per request (``db.session``), so units follow one another, they do not nest: a unit
of work inside another (or inside a read) would commit the outer one's work early and is refused. A read
inside a unit of work is allowed only before anything was written (authentication, ``server.auth``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import Literal

from sqlalchemy import event
from sqlalchemy.orm import Session

from .extensions import db

Kind = Literal["writes", "reads"]
UNIT_KEY = "jangkau.unit"  # in ``session.info``: the kind of unit the request's session is in

SIDE_TRANSACTIONS = {
    "rate-limit counters": (
        "a request is counted before its work and the count is kept whatever the work does, "
        "so parallel requests cannot overrun a budget and a refused login still counts"
    ),
    "push archive": (
        "the pushed body is kept after the push's own transaction ended, "
        "whether the push was applied, replayed, refused or failed"
    ),
}


class ReadOnlyCommit(RuntimeError):
    """A commit inside ``read_only()``: a read must never write by accident."""


class NestedUnit(RuntimeError):
    """A transaction helper used where it would end or commit another unit's work."""


@event.listens_for(Session, "before_commit")
def _refuse_commit_in_read(session: Session) -> None:
    if session.info.get(UNIT_KEY) == "reads":
        raise ReadOnlyCommit("a read-only unit of work tried to commit; declare the route @writes")


class Work:
    """The handle of an open unit of work."""

    def discard(self) -> None:
        """Roll back what this unit wrote so far (an idempotent replay, a login refused for its role).

        The unit goes on: whatever it writes afterwards is committed when it ends.
        """
        db.session.rollback()


@contextmanager
def _kind(kind: Kind | None) -> Iterator[None]:
    info = db.session.info
    outer = info.get(UNIT_KEY)
    info[UNIT_KEY] = kind
    try:
        yield
    finally:
        info[UNIT_KEY] = outer


@contextmanager
def unit_of_work() -> Iterator[Work]:
    """Commit on success; on any exception roll back and re-raise."""
    if db.session.info.get(UNIT_KEY) is not None:
        raise NestedUnit("a unit of work inside another unit would commit the outer unit's work")
    with _kind("writes"):
        try:
            yield Work()
            db.session.commit()
        except BaseException:
            db.session.rollback()
            raise


@contextmanager
def read_only() -> Iterator[None]:
    """Always roll back at the end (success or error); a commit inside raises ``ReadOnlyCommit``."""
    if db.session.info.get(UNIT_KEY) == "writes" and db.session().in_transaction():
        raise NestedUnit("a read inside a unit of work that has begun would roll back its work")
    with _kind("reads"):
        try:
            yield
        finally:
            db.session.rollback()


@contextmanager
def side_transaction(name: str) -> Iterator[None]:
    """A transaction of its own, committed at once whatever the request does next (``SIDE_TRANSACTIONS``).

    It must begin with no transaction open, so it never commits the request's unit of work with it.
    """
    if name not in SIDE_TRANSACTIONS:
        raise KeyError(f"unknown side transaction {name!r}: name it in SIDE_TRANSACTIONS with its reason")
    if db.session().in_transaction():
        raise NestedUnit(f"side transaction {name!r} would commit the open transaction with it")
    with _kind(None):
        try:
            yield
            db.session.commit()
        except BaseException:
            db.session.rollback()
            raise


def _declare(view: Callable, kind: Kind, scope: Callable) -> Callable:
    @wraps(view)  # keeps flask-smorest's ``_apidoc``
    def wrapper(*args, **kwargs):
        with scope():
            return view(*args, **kwargs)

    wrapper.unit_of_work = kind  # type: ignore[attr-defined]
    return wrapper


def writes(view: Callable) -> Callable:
    """Run the view (put it directly under ``@blp.route``) in one unit of work: commit on success."""
    return _declare(view, "writes", unit_of_work)


def reads(view: Callable) -> Callable:
    """Run the view (put it directly under ``@blp.route``) read-only: always roll back, never commit."""
    return _declare(view, "reads", read_only)
