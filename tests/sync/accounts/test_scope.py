"""sync.accounts.scope's rules that routes outside the scope matrix use: push references, payments, user management."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from sync.accounts import scope
from sync.models import Device, User, Worker, new_id
from tests.factories import enrollment, make_user, principal_of, push_as, valid_nik, visit


def _person(name: str, year: int, serial: int) -> dict:
    birth = dt.date(year, 5, 17)
    return enrollment(
        nik=valid_nik(serial, birth=birth),
        full_name=name,
        birth_date=birth.isoformat(),
        phone=f"0813{year}{serial:04d}",
        village=f"Desa {name.split()[-1]}",
    )


def _world(session: Session, world, pii) -> dict:
    """A1's person, visit and a deleted enrolment; A2's person; B1's person and B1's NIK-only probe of A1's."""
    ids = {}
    for key, user, person in (
        ("a1", world.agent_a, _person("Agus Salim", 1971, 11)),
        ("a2", world.agent_b, _person("Dewi Lestari", 1974, 12)),
        ("b1", world.agent_c, _person("Hendra Gunawan", 1977, 13)),
        ("gone", world.agent_a, _person("Rina Marlina", 1980, 14)),
    ):
        v = visit(outcome="refused")
        body = {"enrollments": {"created": [person]}, "visits": {"created": [v]}}
        results = push_as(session, pii, user, body).results
        ids[key] = {
            "e": person["id"],
            "v": v["id"],
            "w": results["enrollments"][person["id"]]["worker_id"],
            "p": person,
        }
    push_as(
        session,
        pii,
        world.agent_a,
        {"enrollments": {"deleted": [ids["gone"]["e"]]}, "visits": {"deleted": [ids["gone"]["v"]]}},
    )
    probe = enrollment(nik=ids["a1"]["p"]["nik"], full_name=None, birth_date=None, sex=None, phone=None, village=None)
    push_as(session, pii, world.agent_c, {"enrollments": {"created": [probe]}})
    ids["probe"] = probe["id"]
    return ids


def test_push_may_name_only_the_agents_live_records_and_people(session, world, pii):
    ids = _world(session, world, pii)
    a1, b1 = world.agent_a.id, world.agent_c.id
    enrolments = {ids[k]["e"] for k in ("a1", "a2", "b1", "gone")} | {"nope"}
    assert scope.own_enrollment_ids(session, a1, enrolments) == {ids["a1"]["e"]}
    assert scope.own_visit_ids(session, a1, {ids[k]["v"] for k in ("a1", "a2", "b1", "gone")}) == {ids["a1"]["v"]}
    people = {ids[k]["w"] for k in ("a1", "a2", "b1", "gone")}
    assert scope.reachable_worker_ids(session, a1, people) == {ids["a1"]["w"]}
    # B1's NIK-only enrolment may be linked to A1's person for matching: it opens nothing.
    assert scope.reachable_worker_ids(session, b1, people) == {ids["b1"]["w"]}
    assert scope.own_enrollment_ids(session, a1, []) == set()


def test_payments_reach_the_branchs_people_only(session, world, pii):
    ids = _world(session, world, pii)

    def payable(user) -> set[str]:
        return set(session.execute(select(Worker.id).where(scope.payable_workers(principal_of(user)))).scalars())

    karawang, makassar = {ids["a1"]["w"], ids["a2"]["w"]}, {ids["b1"]["w"]}
    assert payable(world.supervisor) == karawang  # not the person of the deleted enrolment
    assert payable(world.supervisor_makassar) == makassar  # the NIK-only probe does not count
    assert payable(world.admin) == karawang | makassar | {ids["gone"]["w"]}
    assert payable(world.agent_a) == set()


def test_a_supervisor_manages_only_the_agents_of_their_branch(session, world):
    peer = make_user(session, "spv2.karawang", "supervisor", world.karawang)
    session.flush()
    users = [
        world.agent_a,
        world.agent_b,
        world.agent_c,
        world.supervisor,
        peer,
        world.supervisor_makassar,
        world.admin,
    ]
    for user in users:
        session.add(Device(id=new_id(), user_id=user.id, client_device_id="phone", created_at=1))
    session.commit()

    def managed(user) -> set[str]:
        principal = principal_of(user)
        by_condition = set(session.execute(select(User.username).where(scope.manageable_users(principal))).scalars())
        by_object = {u.username for u in users if scope.can_manage_user(principal, u)}
        assert by_condition == by_object, user.username
        revocable = session.execute(
            select(User.username).join(Device, Device.user_id == User.id).where(scope.revocable_devices(principal))
        ).scalars()
        assert set(revocable) == by_condition, user.username
        return by_condition

    assert managed(world.supervisor) == {"agen.a", "agen.b"}
    assert managed(world.supervisor_makassar) == {"agen.c"}
    assert managed(world.admin) == {u.username for u in users}
    assert managed(world.agent_a) == set()
