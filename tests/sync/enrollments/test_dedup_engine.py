"""Duplicate resolution inside the push (sync/enrollments/linking.py, duplicates/): outcome bands and credits."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from sync.enrollments.duplicates.merge import latest_merge, mark_distinct, merge, unmerge
from sync.models import Enrollment, Worker
from sync.models.dedup import DedupDecision, RegistryEntry
from tests.dedup_helpers import candidates, live_workers, person, push_enrollments, row
from tests.factories import principal_of


def twin(**overrides):
    """Same birth date, family name, phone and village; next NIK serial; another first name."""
    return person(nik="3215011203850008", full_name="Muhammad Yunus", **overrides)


def test_same_nik_links_as_duplicate_credited_to_first_agent(session, world, pii):
    """A second enrolment of the same person is `duplicate` of the first; the first agent keeps the credit."""
    first, second = person(), person()
    push_enrollments(session, world.agent_a, pii, first)
    result = push_enrollments(session, world.agent_b, pii, second)[second["id"]]
    assert result["status"] == "duplicate" and result["duplicate_of"] == first["id"]
    later = row(session, second["id"])
    assert later.worker_id == row(session, first["id"]).worker_id
    assert later.credited_agent_id == world.agent_a.id
    assert "same NIK" in later.status_reason and "Already enrolled before" in later.status_reason
    assert len(live_workers(session)) == 1
    assert [c.status for c in candidates(session)] == ["merged"]


def test_a_record_without_sex_or_birth_date_is_matched_through_its_nik(session, world, pii):
    """Sex and birth date left empty beside a valid NIK: the record is valid (the NIK stands in, with a
    warning, the columns stay empty) and forms a person that a full record of the same person joins."""
    bare = person(sex=None, birth_date=None, phone=None)
    result = push_enrollments(session, world.agent_a, pii, bare)[bare["id"]]
    assert result["status"] == "verified" and set(result["warnings"]) == {"birth_date", "sex"}
    stored = row(session, bare["id"])
    assert stored.sex is None and stored.birth_date is None
    full = person(nik="3215011203850070")  # the serial mistyped: the NIK's date and sex still agree
    again = push_enrollments(session, world.agent_b, pii, full)[full["id"]]
    assert again["status"] == "duplicate" and again["duplicate_of"] == bare["id"]


def test_typos_and_variants_still_link(session, world, pii):
    """Swapped NIK digits, Muhamad for Muhammad, another phone format and a village prefix are one person."""
    first = person()
    second = person(
        nik="3251011203850007", full_name="MUHAMAD YUSUF", phone="+62 812-3456-7890", village="Desa Cilamaya"
    )
    push_enrollments(session, world.agent_a, pii, first)
    result = push_enrollments(session, world.agent_b, pii, second)[second["id"]]
    assert result["status"] == "duplicate"
    assert "NIK has 2 adjacent digits swapped" in row(session, second["id"]).status_reason


def test_twin_goes_to_review_not_linked(session, world, pii):
    """A twin (next NIK serial, another first name) is a new person with an open candidate for the supervisor."""
    first, other = person(), twin()
    push_enrollments(session, world.agent_a, pii, first)
    result = push_enrollments(session, world.agent_b, pii, other)[other["id"]]
    assert result["status"] == "verified"
    assert row(session, other["id"]).credited_agent_id == world.agent_b.id
    (candidate,) = candidates(session, "open")
    assert candidate.enrollment_id == other["id"]
    assert candidate.other_worker_id == row(session, first["id"]).worker_id
    assert candidate.worker_id == result["worker_id"] and 0 < candidate.score < 1
    assert "NIK differs only in the serial number" in json.loads(candidate.reasons)


def test_unrelated_person_is_new(session, world, pii):
    """Someone sharing nothing is a new person with no candidate."""
    push_enrollments(session, world.agent_a, pii, person())
    other = person(
        nik="7371014506900003",
        full_name="Sri Wahyuni",
        sex="F",
        birth_date="1990-06-05",
        phone="085211112222",
        village="Tamalanrea",
    )
    assert push_enrollments(session, world.agent_b, pii, other)[other["id"]]["status"] == "verified"
    assert len(live_workers(session)) == 2 and candidates(session) == []


def test_invalid_enrolment_points_at_known_person_but_never_creates_one(session, world, pii):
    """`needs_correction` gets the worker it clearly matches; an unmatched invalid one creates no worker.

    The link is the server's (for matching); agent B, who has no access to the person, is not told it."""
    push_enrollments(session, world.agent_a, pii, person())
    bad = person(programs="JHT")  # JKK and JKM missing: invalid
    lonely = person(nik="7371014506900003", full_name="Sri Wahyuni", sex="F", programs="JHT")
    results = push_enrollments(session, world.agent_b, pii, bad, lonely)
    assert results[bad["id"]]["status"] == "needs_correction" and "worker_id" not in results[bad["id"]]
    assert row(session, bad["id"]).worker_id == live_workers(session)[0].id
    assert results[lonely["id"]]["status"] == "needs_correction" and "worker_id" not in results[lonely["id"]]
    assert len(live_workers(session)) == 1


def test_two_records_of_one_person_in_one_push(session, world, pii):
    """Within one push the later record finds the worker made by the earlier one."""
    a, b = person(), person(full_name="M. Yusuf")
    results = push_enrollments(session, world.agent_a, pii, a, b)
    assert results[a["id"]]["status"] == "verified"
    assert results[b["id"]]["status"] == "duplicate" and results[b["id"]]["duplicate_of"] == a["id"]


def test_registry_member_is_duplicate_already_member(session, world, pii):
    """A NIK already in the BPJS registry makes a new enrolment `duplicate`: already a BPU member, no credit."""
    nik = "3215011203850007"
    session.add(
        RegistryEntry(nik_index=pii.blind_index("nik", nik), nik_masked="x", membership_status="active", imported_at=1)
    )
    session.commit()
    e = person(nik=nik)
    assert push_enrollments(session, world.agent_a, pii, e)[e["id"]]["status"] == "duplicate"
    stored = row(session, e["id"])
    assert "already a BPU member" in stored.status_reason and stored.credited_agent_id is None
    assert session.get(Worker, stored.worker_id).membership_status == "active"


def _review_pair(session, world, pii):
    first, other = person(), twin()
    push_enrollments(session, world.agent_a, pii, first)
    push_enrollments(session, world.agent_b, pii, other)
    (candidate,) = candidates(session, "open")
    return first, other, candidate


LINKS = ("status", "status_reason", "worker_id", "duplicate_of", "credited_agent_id")


def _state(session, *ids):
    session.expire_all()
    return {i: tuple(getattr(session.get(Enrollment, i), c) for c in LINKS) for i in ids}


def test_merge_then_unmerge_round_trip(session, world, pii):
    """Merging moves the later person's enrolments and credit; unmerging restores exactly the state before."""
    first, other, candidate = _review_pair(session, world, pii)
    absorbed = candidate.worker_id
    before = _state(session, first["id"], other["id"])
    before_stamp = row(session, other["id"]).last_modified
    spv = principal_of(world.supervisor)
    merge(session, candidate=candidate, principal=spv, note="same man, checked KTP")
    session.commit()
    merged = row(session, other["id"])
    assert merged.status == "duplicate" and merged.duplicate_of == first["id"]
    assert merged.credited_agent_id == world.agent_a.id and merged.last_modified > before_stamp
    assert session.get(Worker, absorbed).deleted_at is not None
    unmerge(session, merge_row=latest_merge(session, absorbed), principal=spv, pii=pii)
    session.commit()
    assert _state(session, first["id"], other["id"]) == before
    assert session.get(Worker, absorbed).deleted_at is None
    actions = session.execute(select(DedupDecision.action, DedupDecision.user_id).order_by(DedupDecision.id)).all()
    assert [a for a, _ in actions][-2:] == ["merge", "unmerge"]
    assert all(u == world.supervisor.id for a, u in actions if a != "auto_link")


def test_unmerge_automatic_link_makes_a_new_person(session, world, pii):
    """Undoing an automatic link gives the enrolment its own person, verified and credited to its agent."""
    first, second = person(), person()
    push_enrollments(session, world.agent_a, pii, first)
    push_enrollments(session, world.agent_b, pii, second)
    survivor = row(session, first["id"]).worker_id
    unmerge(session, merge_row=latest_merge(session, survivor), principal=principal_of(world.admin), pii=pii)
    session.commit()
    undone = row(session, second["id"])
    assert undone.status == "verified" and undone.worker_id != survivor and undone.duplicate_of is None
    assert undone.credited_agent_id == world.agent_b.id
    assert session.get(Worker, undone.worker_id).nik_masked == "321501********07"


def test_distinct_pair_is_closed_and_not_proposed_again(session, world, pii):
    """A distinct decision closes the pair; re-enrolling the twin links to the twin, with no new candidate."""
    _, other, candidate = _review_pair(session, world, pii)
    mark_distinct(session, candidate=candidate, principal=principal_of(world.supervisor), note="twins")
    session.commit()
    assert candidates(session, "open") == []
    again = twin()
    result = push_enrollments(session, world.agent_c, pii, again)[again["id"]]
    assert result["status"] == "duplicate" and result["duplicate_of"] == other["id"]
    assert candidates(session, "open") == []


def test_merge_recomputes_credit_across_people(session, world, pii):
    """After a merge every enrolment of the person is credited to the agent of the first valid one."""
    first, other, candidate = _review_pair(session, world, pii)
    third = twin()  # links to the twin's person before the merge
    push_enrollments(session, world.agent_c, pii, third)
    assert row(session, third["id"]).credited_agent_id == world.agent_b.id
    merge(session, candidate=candidate, principal=principal_of(world.admin), note=None)
    session.commit()
    credits = session.execute(select(Enrollment.credited_agent_id, func.count()).group_by(Enrollment.credited_agent_id))
    assert dict(credits.all()) == {world.agent_a.id: 3}
    assert row(session, third["id"]).duplicate_of == first["id"]


def test_relative_with_other_given_name_is_not_auto_linked(session, world, pii):
    """Two relatives sharing surname, birth date and a NIK one district digit apart are never merged
    automatically (the false link the sync benchmark found: "Siti Ginting" vs "Eko Ginting")."""
    first = person(
        nik="3215082408930002",
        full_name="Eko Ginting",
        birth_date="1993-08-24",
        sex="F",
        phone="081377778888",
        village="Tempuran",
    )
    other = person(
        nik="3215032408930002",
        full_name="Siti Ginting",
        birth_date="1993-08-24",
        sex="F",
        phone="085644445555",
        village="Cilamaya",
    )
    push_enrollments(session, world.agent_a, pii, first)
    result = push_enrollments(session, world.agent_b, pii, other)[other["id"]]
    assert result["status"] == "verified"
    assert len(live_workers(session)) == 2


def test_serial_typo_far_from_a_twin_links(session, world, pii):
    """NIKs equal but for a serial typo far from consecutive (0007 vs 0307), same person: linked."""
    first = person()
    second = person(nik="3215011203850307", full_name="Muhammad Yusup")
    push_enrollments(session, world.agent_a, pii, first)
    assert push_enrollments(session, world.agent_b, pii, second)[second["id"]]["status"] == "duplicate"


def test_consecutive_serial_with_a_different_spelling_stays_in_review(session, world, pii):
    """Consecutive serials (0007, 0008) with names that differ: possibly twins, so review, not a link."""
    first = person()
    second = person(nik="3215011203850008", full_name="Muhammad Yusup")
    push_enrollments(session, world.agent_a, pii, first)
    assert push_enrollments(session, world.agent_b, pii, second)[second["id"]]["status"] == "verified"
    assert [c.status for c in candidates(session)] == ["open"]


def test_incomplete_record_corrected_later_does_not_take_the_credit(session, world, pii):
    """Agent B pushes first but incomplete; agent A's complete enrolment comes next; B's correction is a duplicate."""
    early = person(programs="JHT")
    push_enrollments(session, world.agent_b, pii, early)
    complete = person(full_name="M. Yusuf")
    push_enrollments(session, world.agent_a, pii, complete)
    fixed = early | {"programs": "JKK,JKM", "_status": "updated"}
    result = push_enrollments(session, world.agent_b, pii, fixed)[early["id"]]
    assert result["status"] == "duplicate" and result["duplicate_of"] == complete["id"]
    assert row(session, complete["id"]).credited_agent_id == world.agent_a.id
    assert row(session, early["id"]).credited_agent_id == world.agent_a.id
    assert row(session, early["id"]).valid_since > row(session, complete["id"]).valid_since


def test_a_fact_against_one_record_of_a_person_is_against_the_person(session, world, pii):
    """Bambang (NIK serials 0031 and 0032, one person) and his twin Bambang Djunaidi (0030): the twin
    resembles the 0032 record enough to link, but 0030 and 0031 are consecutive serials with other names
    (a fact), so the push makes him a person of his own and asks a supervisor."""
    from sync.enrollments.duplicates.matcher import judge, person_of
    from sync.enrollments.duplicates.model import LINK, shipped_config

    home = {"birth_date": "1985-03-12", "village": "Pasir Maju", "address": "Gg. Sawo III No. 36 RT 08 RW 12"}
    first = person(nik="3215011203850031", full_name="Bambang", phone=None, **home)
    second = person(nik="3215011203850032", full_name="Bambang", phone=None, **home)
    twin = person(nik="3215011203850030", full_name="Bambang Djunaidi", phone=None, **home)

    def seen(record):
        return person_of(
            nik=record["nik"], phone_index=None, **{k: record[k] for k in home}, full_name=record["full_name"], sex="M"
        )

    config = shipped_config()
    assert judge(config, seen(twin), seen(second)).outcome == LINK  # alone, the 0032 record would take him
    assert judge(config, seen(twin), seen(first)).blockers  # the twins' fact
    push_enrollments(session, world.agent_a, pii, first, second)
    assert len(live_workers(session)) == 1
    result = push_enrollments(session, world.agent_b, pii, twin)[twin["id"]]
    assert result["status"] == "verified" and len(live_workers(session)) == 2
    (candidate,) = candidates(session, "open")
    assert any("twins" in reason for reason in json.loads(candidate.reasons))
