"""The candidate store (match_keys) kept with the enrolments, and matching against every record of a person."""

from __future__ import annotations

from sqlalchemy import delete, func, select

from sync.enrollments.duplicates import store
from sync.enrollments.duplicates.compare import compare
from sync.enrollments.duplicates.keys import key_set
from sync.enrollments.duplicates.matcher import COUNTERS, person_of
from sync.enrollments.duplicates.model import LINK, decide, shipped_config
from sync.enrollments.duplicates.rekey import backfill, rekey
from sync.models.dedup import MatchKey
from sync.protocol.push import push
from tests.dedup_helpers import TODAY, live_workers, person, push_enrollments, row, update_enrollments
from tests.factories import changes, principal_of


def stored(session, eid: str) -> set[str]:
    return set(session.execute(select(MatchKey.key).where(MatchKey.enrollment_id == eid)).scalars())


def expected(pii, record: dict, phone: str = "+6281234567890") -> set[str]:
    who = person_of(
        nik=record["nik"],
        full_name=record["full_name"],
        birth_date=record["birth_date"],
        sex=record["sex"],
        phone_index=pii.blind_index("phone", phone),
        village=record["village"],
        address=record["address"],
    )
    return key_set(who, pii)


def test_keys_are_written_with_the_enrolment(session, world, pii):
    """A pushed enrolment, valid or not, has its keys in the store, as keyed hashes of its fields."""
    good, bad = person(), person(nik="7371014506900003", full_name="Sri Wahyuni", sex="F", programs="JHT")
    push_enrollments(session, world.agent_a, pii, good, bad)
    assert stored(session, good["id"]) == expected(pii, good)
    assert stored(session, bad["id"]) == expected(pii, bad) != set()


def test_keys_follow_identity_changes_only(session, world, pii):
    """Correcting the village rewrites the keys; changing the income leaves them as they are."""
    first = person()
    push_enrollments(session, world.agent_a, pii, first)
    moved = first | {"village": "Tempuran"}
    update_enrollments(session, world.agent_a, pii, moved)
    assert stored(session, first["id"]) == expected(pii, moved) != expected(pii, first)
    before = session.execute(select(func.count()).select_from(MatchKey)).scalar()
    update_enrollments(session, world.agent_a, pii, moved | {"monthly_income": 2_500_000})
    assert stored(session, first["id"]) == expected(pii, moved)
    assert session.execute(select(func.count()).select_from(MatchKey)).scalar() == before


def test_deleted_enrolment_keys_are_ignored_then_purged(session, world, pii):
    """A tombstoned enrolment is found by nobody; the sweep's purge (or rekey) removes its keys."""
    first = person()
    push_enrollments(session, world.agent_a, pii, first)
    push(
        session,
        principal=principal_of(world.agent_a),
        changes=changes(enrollments={"deleted": [first["id"]]}),
        last_pulled_at=10**13,
        pii=pii,
        today=TODAY,
    )
    session.commit()
    keys = stored(session, first["id"])
    assert keys and store.hits(session, keys).by_key == {}
    again = person()
    assert push_enrollments(session, world.agent_b, pii, again)[again["id"]]["status"] == "verified"
    assert store.purge(session) == len(keys)
    assert stored(session, first["id"]) == set()


def test_a_crowded_key_is_left_out(session, world, pii):
    """A key shared by more enrolments than the cap is reported crowded, not returned."""
    records = [person(nik=f"32150112038500{i:02d}", full_name=f"Orang Nomor{i}", phone=None) for i in range(4)]
    push_enrollments(session, world.agent_a, pii, *records)
    shared = set.intersection(*(stored(session, r["id"]) for r in records))
    assert shared  # the birth date, at least
    wide, narrow = store.hits(session, shared, cap=4), store.hits(session, shared, cap=3)
    assert all(len(h) == 4 for h in wide.by_key.values()) and not wide.crowded
    assert narrow.by_key == {} and narrow.crowded == shared


def test_rekey_and_backfill_rebuild_the_store(session, world, pii):
    """Data older than the store (no keys) gets them from `rekey`, or from `backfill` (the sweep's first step)."""
    a, b = person(), person(nik="7371014506900003", full_name="Sri Wahyuni", sex="F")
    push_enrollments(session, world.agent_a, pii, a, b)
    keys = {r["id"]: stored(session, r["id"]) for r in (a, b)}
    session.execute(delete(MatchKey))
    assert backfill(session, pii) == 2
    assert {r["id"]: stored(session, r["id"]) for r in (a, b)} == keys
    session.execute(delete(MatchKey).where(MatchKey.enrollment_id == a["id"]))
    counts = rekey(session, pii)
    assert counts == {"enrollments": 2, "keys": sum(map(len, keys.values())), "removed": 0}
    assert {r["id"]: stored(session, r["id"]) for r in (a, b)} == keys


def test_old_data_without_keys_is_found_again_after_backfill(session, world, pii):
    """Until its keys exist an old person is not found (a second person is made); backfill ends that."""
    first = person()
    push_enrollments(session, world.agent_a, pii, first)
    session.execute(delete(MatchKey))
    session.commit()
    backfill(session, pii)
    session.commit()
    again = person(full_name="M. Yusuf")
    assert push_enrollments(session, world.agent_b, pii, again)[again["id"]]["status"] == "duplicate"


# -- every record of a candidate person


def noisy_first():
    """The person's first record is the noisy one: old phone, another village and house, the birth year mistyped."""
    return person(
        full_name="M. Jusuf", birth_date="1958-03-12", village="Tempuran", phone="085299990000", address="Gg. Mawar 12"
    )


def test_clean_records_link_to_a_person_whose_first_record_is_noisy(session, world, pii):
    """The third record does not match the first (noisy) one, only the second: it still joins the person."""
    first, second = noisy_first(), person()
    third = person(nik="3215011203851234", phone="081300001111")  # the serial mistyped, a new phone
    config = shipped_config()
    people = {r["id"]: expected_person(pii, r) for r in (first, second, third)}
    assert decide(compare(people[second["id"]], people[first["id"]]), config).outcome == LINK
    assert decide(compare(people[third["id"]], people[first["id"]]), config).outcome != LINK
    assert decide(compare(people[third["id"]], people[second["id"]]), config).outcome == LINK

    push_enrollments(session, world.agent_a, pii, first)
    push_enrollments(session, world.agent_b, pii, second)
    COUNTERS.reset()
    result = push_enrollments(session, world.agent_c, pii, third)[third["id"]]
    assert result["status"] == "duplicate" and result["duplicate_of"] == first["id"]
    assert row(session, third["id"]).worker_id == row(session, first["id"]).worker_id
    assert len(live_workers(session)) == 1
    assert COUNTERS.records == 1 and COUNTERS.pairs == 2  # both records of the person were compared


def expected_person(pii, record: dict):
    return person_of(
        nik=record["nik"],
        full_name=record["full_name"],
        birth_date=record["birth_date"],
        sex=record["sex"],
        phone_index=pii.blind_index("phone", "+62" + record["phone"][1:]),
        village=record["village"],
        address=record["address"],
    )


def test_keys_pushed_are_the_keys_rebuilt_from_the_row(session, world, pii):
    """A NIK typed with letters for digits (invalid) is keyed at the push as the row reads back, so the
    sweep and a rebuild meet the same keys the push stored."""
    scanned = person(nik="32150112O385OOO7")
    assert push_enrollments(session, world.agent_a, pii, scanned)[scanned["id"]]["status"] == "needs_correction"
    pushed = stored(session, scanned["id"])
    session.execute(delete(MatchKey))
    assert backfill(session, pii) == 1
    assert stored(session, scanned["id"]) == pushed
    assert key_set(person_of(**_identity(scanned, pii)), pii) == pushed


def _identity(record: dict, pii) -> dict:
    return {
        "nik": "3215011203850007",  # the digits the letters stand for
        "full_name": record["full_name"],
        "birth_date": record["birth_date"],
        "sex": record["sex"],
        "phone_index": pii.blind_index("phone", "+6281234567890"),
        "village": record["village"],
        "address": record["address"],
        "occupation": record.get("occupation"),
    }
