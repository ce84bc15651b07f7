"""Builders for test data: accounts in the database, and records as a WatermelonDB phone sends them."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace

from sqlalchemy.orm import Session

from sync.accounts.auth import hash_password
from sync.accounts.principal import Principal
from sync.models import Branch, User, new_id
from sync.pii import PiiProtector
from sync.protocol.clock import current_stamp, now_ms
from sync.protocol.push import PushOutcome, push
from sync.settings import EngineSettings

PASSWORD = "rahasia-123"
_PASSWORD_HASH = hash_password(PASSWORD)  # argon2 is slow on purpose: hash once per run
_serial = itertools.count(1)


def make_branch(session: Session, code: str, lat: float = -6.3053, lon: float = 107.3027) -> Branch:
    branch = Branch(id=new_id(), code=code, name=f"Branch {code}", kind="KCU", latitude=lat, longitude=lon)
    session.add(branch)
    return branch


def make_user(session: Session, username: str, role: str, branch: Branch | None) -> User:
    user = User(
        id=new_id(),
        username=username,
        full_name=username.title(),
        password_hash=_PASSWORD_HASH,
        role=role,
        branch_id=branch.id if branch else None,
        active=True,
        created_at=now_ms(),
    )
    session.add(user)
    return user


def principal_of(user: User, device_id: str | None = "dev-test") -> Principal:
    return Principal(
        user_id=user.id, username=user.username, role=user.role, branch_id=user.branch_id, device_id=device_id
    )


@dataclass
class World:
    karawang: Branch
    makassar: Branch
    agent_a: User
    agent_b: User
    agent_c: User
    supervisor: User
    supervisor_makassar: User
    admin: User


def make_world(session: Session) -> World:
    karawang = make_branch(session, "KCU-KARAWANG")
    makassar = make_branch(session, "KCU-MAKASSAR", -5.1354, 119.4238)
    session.flush()
    world = World(
        karawang=karawang,
        makassar=makassar,
        agent_a=make_user(session, "agen.a", "agent", karawang),
        agent_b=make_user(session, "agen.b", "agent", karawang),
        agent_c=make_user(session, "agen.c", "agent", makassar),
        supervisor=make_user(session, "spv.karawang", "supervisor", karawang),
        supervisor_makassar=make_user(session, "spv.makassar", "supervisor", makassar),
        admin=make_user(session, "admin", "admin", None),
    )
    session.commit()
    return world


def valid_nik(serial: int | None = None, *, sex: str = "M", birth: dt.date = dt.date(1985, 3, 12)) -> str:
    """A structurally valid Karawang NIK; ``serial`` makes it unique."""
    serial = next(_serial) if serial is None else serial
    day = birth.day + (40 if sex == "F" else 0)
    return f"321501{day:02d}{birth.month:02d}{birth.year % 100:02d}{serial % 10000:04d}"


def enrollment(**overrides) -> dict:
    """A complete, valid enrolment record as WatermelonDB pushes it (with ``_status``/``_changed``)."""
    record = {
        "id": new_id(),
        "_status": "created",
        "_changed": "",
        "nik": valid_nik(),
        "full_name": "Budi Santoso",
        "birth_date": "1985-03-12",
        "sex": "M",
        "phone": "0812-3456-7890",
        "occupation": "nelayan",
        "address": "Jl. Pelabuhan 3",
        "village": "Cilamaya",
        "programs": "JKK,JKM",
        "monthly_income": 2_000_000,
        "visit_id": None,
        "captured_at": now_ms(),
        "status": None,
        "status_reason": None,
        "validation_errors": None,
        "worker_id": None,
        "duplicate_of": None,
        "credited_agent_id": None,
        "updated_at": now_ms(),
    }
    record.update(overrides)
    return record


def visit(**overrides) -> dict:
    record = {
        "id": new_id(),
        "_status": "created",
        "_changed": "",
        "enrollment_id": None,
        "worker_id": None,
        "visited_at": now_ms() - 3_600_000,
        "latitude": -6.3227,
        "longitude": 107.3376,
        "accuracy_m": 12.0,
        "is_mock_location": False,
        "outcome": "interested",
        "occupation": "nelayan",
        "notes": "rumah dekat TPI",
        "province_code": None,
        "regency_code": None,
        "province": None,
        "regency": None,
        "timezone": None,
        "distance_from_branch_km": None,
        "flags": None,
    }
    record.update(overrides)
    return record


def follow_up(**overrides) -> dict:
    record = {
        "id": new_id(),
        "_status": "created",
        "_changed": "",
        "enrollment_id": None,
        "worker_id": None,
        "visit_id": None,
        "kind": "revisit",
        "due_at": now_ms() + 86_400_000,
        "status": "scheduled",
        "outcome_notes": None,
        "completed_at": None,
        "assigned_agent_id": None,
    }
    record.update(overrides)
    return record


def changes(**tables) -> dict:
    """A full push body: every table present, as WatermelonDB sends it."""
    body = {
        t: {"created": [], "updated": [], "deleted": []} for t in ("enrollments", "visits", "follow_ups", "workers")
    }
    for table, parts in tables.items():
        body[table].update(parts)
    return body


def push_as(
    session: Session,
    pii: PiiProtector,
    user: User,
    body_or_tables: Mapping[str, Mapping[str, list]],
    *,
    last_pulled_at: int | None = None,
    today: dt.date | None = None,
    settings: EngineSettings | None = None,
    device_id: str | None = "dev-test",
) -> PushOutcome:
    """One push straight through the engine (``sync.protocol.push.push``) as ``user``'s phone, committed.

    ``body_or_tables`` is a body from ``changes`` or only the pushed parts (``{"visits": {"created": [v]}}``);
    ``changes`` fills in the rest. ``last_pulled_at`` defaults to the clock's current stamp: a phone that has
    just pulled everything. ``settings`` default to the engine's (``EngineSettings()``).
    """
    outcome = push(
        session,
        principal=principal_of(user, device_id),
        changes=changes(**body_or_tables),
        last_pulled_at=current_stamp(session) if last_pulled_at is None else last_pulled_at,
        pii=pii,
        today=today,
        settings=settings,
    )
    session.commit()
    return outcome


class ApiHelper:
    """Log in people of the world over HTTP and sync as them."""

    def __init__(self, client, world: World):
        self.client, self.world = client, world
        self.tokens: dict[tuple[str, str], str] = {}

    def token(self, user: User, device: str = "phone-1") -> str:
        key = (user.username, device)
        if key not in self.tokens:
            response = self.client.post(
                "/api/v1/auth/login", json={"username": user.username, "password": PASSWORD, "device_id": device}
            )
            assert response.status_code == 200, response.json
            self.tokens[key] = response.json["token"]
        return self.tokens[key]

    def headers(self, user: User, device: str = "phone-1", **extra) -> dict:
        return {"Authorization": f"Bearer {self.token(user, device)}", **extra}

    def pull(self, user: User, last_pulled_at=None, device: str = "phone-1", **params):
        query = {
            "last_pulled_at": "null" if last_pulled_at is None else last_pulled_at,
            "schema_version": 1,
            "migration": "null",
            **params,
        }
        return self.client.get("/api/v1/sync/pull", query_string=query, headers=self.headers(user, device))

    def push(self, user: User, body: dict, last_pulled_at: int, device: str = "phone-1", **headers):
        return self.client.post(
            f"/api/v1/sync/push?last_pulled_at={last_pulled_at}",
            json={"changes": body},
            headers=self.headers(user, device, **headers),
        )

    def sync(self, user: User, body: dict | None = None, last_pulled_at=None, device: str = "phone-1"):
        """A WatermelonDB sync: pull, then push (if anything) with the pull's timestamp."""
        pulled = self.pull(user, last_pulled_at, device)
        assert pulled.status_code == 200, pulled.json
        pushed = None
        if body:
            pushed = self.push(user, body, pulled.json["timestamp"], device)
        return pulled, pushed


@contextmanager
def webhook_secret(app, secret: str) -> Iterator[None]:
    """The app's parsed settings with a gateway secret while the block runs (settings are parsed once)."""
    from server.config import SETTINGS_EXTENSION

    parsed: EngineSettings = app.extensions[SETTINGS_EXTENSION]
    app.extensions[SETTINGS_EXTENSION] = replace(parsed, dispatch=replace(parsed.dispatch, webhook_secret=secret))
    try:
        yield
    finally:
        app.extensions[SETTINGS_EXTENSION] = parsed
