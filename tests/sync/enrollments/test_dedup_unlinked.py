"""Invalid enrolments pushed before their person's first valid one are claimed by it later."""

from __future__ import annotations

from sqlalchemy import delete, select

from sync.enrollments.duplicates.rekey import rekey
from sync.models import Enrollment
from sync.models.dedup import MatchKey
from sync.protocol.pull import pull
from sync.protocol.push import push
from tests.dedup_helpers import TODAY, live_workers, person, push_enrollments, row
from tests.factories import changes, principal_of


def unlinked_ids(session) -> set[str]:
    """Invalid enrolments waiting for their person: live, without a worker."""
    waiting = select(Enrollment.id).where(Enrollment.worker_id.is_(None), Enrollment.deleted_at.is_(None))
    return set(session.execute(waiting).scalars())


def test_earlier_invalid_enrolment_is_claimed_by_a_later_valid_one(session, world, pii):
    """A dropped NIK digit (invalid) waits without a person; the valid enrolment pushed later claims it."""
    bad = person(nik="321501120385007")  # 15 digits: needs correction
    result = push_enrollments(session, world.agent_b, pii, bad)[bad["id"]]
    assert result["status"] == "needs_correction" and "worker_id" not in result
    assert unlinked_ids(session) == {bad["id"]} and live_workers(session) == []
    before = row(session, bad["id"]).last_modified

    good = person(full_name="Muhamad Yusuf")
    push_enrollments(session, world.agent_a, pii, good)
    claimed, first = row(session, bad["id"]), row(session, good["id"])
    assert claimed.worker_id == first.worker_id is not None
    assert claimed.status == "needs_correction" and first.status == "verified"
    assert claimed.last_modified > before and claimed.worker_linked_at == claimed.last_modified
    assert unlinked_ids(session) == set()

    # The link serves matching only: an invalid enrolment opens no person to its agent (no NIK oracle).
    changes = pull(session, principal=principal_of(world.agent_b), last_pulled_at=before, pii=pii)["changes"]
    assert [r["worker_id"] for r in changes["enrollments"]["updated"]] == [None]
    assert changes["workers"]["created"] + changes["workers"]["updated"] == []
    # Once agent B corrects it, the enrolment is valid and the person arrives.
    fixed = dict(good, id=bad["id"])
    push_enrollments(session, world.agent_b, pii, fixed)
    changes = pull(session, principal=principal_of(world.agent_b), last_pulled_at=before, pii=pii)["changes"]
    assert [r["id"] for r in changes["workers"]["created"] + changes["workers"]["updated"]] == [first.worker_id]


def test_claimed_within_the_same_push(session, world, pii):
    """Invalid first, valid second in one push: the invalid one ends up with the new person too."""
    bad, good = person(programs="JHT"), person()
    results = push_enrollments(session, world.agent_a, pii, bad, good)
    assert results[bad["id"]]["status"] == "needs_correction"
    assert results[bad["id"]]["worker_id"] == results[good["id"]]["worker_id"]
    assert row(session, bad["id"]).worker_id == results[good["id"]]["worker_id"]
    assert unlinked_ids(session) == set()


def test_someone_else_does_not_claim_it(session, world, pii):
    """A different person sharing a phone leaves the invalid enrolment unclaimed."""
    bad = person(programs="JHT")
    push_enrollments(session, world.agent_b, pii, bad)
    wife = person(nik="3215015509880002", full_name="Siti Aminah", sex="F", birth_date="1988-09-15")
    push_enrollments(session, world.agent_a, pii, wife)
    assert row(session, bad["id"]).worker_id is None
    assert unlinked_ids(session) == {bad["id"]}


def test_correcting_the_enrolment_takes_it_off_the_waiting_list(session, world, pii):
    """Re-pushed valid, the enrolment makes its own person and waits no more."""
    bad = person(programs="JHT")
    push_enrollments(session, world.agent_b, pii, bad)
    fixed = bad | {"programs": "JKK,JKM", "_status": "updated"}
    assert push_enrollments(session, world.agent_b, pii, fixed)[bad["id"]]["status"] == "verified"
    assert unlinked_ids(session) == set() and len(live_workers(session)) == 1


def test_deleted_unlinked_enrolment_is_not_claimed(session, world, pii):
    """A tombstoned invalid enrolment is not revived by a later match."""
    bad = person(programs="JHT")
    push_enrollments(session, world.agent_b, pii, bad)
    push(
        session,
        principal=principal_of(world.agent_b),
        changes=changes(enrollments={"deleted": [bad["id"]]}),
        last_pulled_at=10**13,
        pii=pii,
        today=TODAY,
    )
    session.commit()
    push_enrollments(session, world.agent_a, pii, person())
    assert row(session, bad["id"]).worker_id is None


def test_rekey_rebuilds_waiting_enrolments_keys(session, world, pii):
    """`rekey` restores a waiting enrolment's keys, so its person still finds it afterwards."""
    bad = person(programs="JHT")
    push_enrollments(session, world.agent_b, pii, bad)
    expected = set(session.execute(select(MatchKey.key).where(MatchKey.enrollment_id == bad["id"])).scalars())
    session.execute(delete(MatchKey))
    session.commit()
    assert rekey(session, pii) == {"enrollments": 1, "keys": len(expected), "removed": 0}
    session.commit()
    assert set(session.execute(select(MatchKey.key).where(MatchKey.enrollment_id == bad["id"])).scalars()) == expected
    good = person()
    push_enrollments(session, world.agent_a, pii, good)
    assert row(session, bad["id"]).worker_id == row(session, good["id"]).worker_id
