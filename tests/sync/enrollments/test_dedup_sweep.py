"""The sweep (sync/enrollments/duplicates/sweep.py): people split by arrival order are merged, waiting
enrolments claimed, review pairs queued, supervisors' decisions kept; pushes + sweep == batch clustering."""

from __future__ import annotations

import itertools
import json
import random
import threading
from collections import defaultdict

import pytest
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bench.dedup_noisy_data import generate
from sync.enrollments.duplicates.keys import key_set
from sync.enrollments.duplicates.matcher import judge, person_columns, stored_person
from sync.enrollments.duplicates.merge import latest_merge, mark_distinct, unmerge
from sync.enrollments.duplicates.model import shipped_config
from sync.enrollments.duplicates.sweep import batch_clusters, sweep
from sync.models import Enrollment
from sync.models.dedup import DedupDecision, DedupSweep, DuplicateCandidate, WorkerMerge
from sync.reminders.settings import DispatchSettings
from sync.scheduler.jobs import run_due_jobs
from sync.scheduler.tick import housekeeping_jobs
from tests.dedup_helpers import candidates, live_workers, person, push_enrollments, row, update_enrollments
from tests.factories import enrollment, principal_of

LINKS = ("status", "status_reason", "worker_id", "duplicate_of", "credited_agent_id")


def serial_typo():
    """The person with the NIK's serial mistyped and a new phone: links the clean record, not the noisy one."""
    return person(nik="3215011203851234", phone="081300001111")


def noisy():
    """The person's noisiest record: old phone, another village, the birth year mistyped, a short name."""
    return person(
        full_name="M. Jusuf", birth_date="1958-03-12", village="Tempuran", phone="085299990000", address="Gg. Mawar 12"
    )


def split_person(session, world, pii):
    """Three records of one person, pushed so that the push makes two people of them."""
    first, second, bridge = serial_typo(), noisy(), person()
    push_enrollments(session, world.agent_a, pii, first)
    push_enrollments(session, world.agent_b, pii, second)
    push_enrollments(session, world.agent_c, pii, bridge)
    assert len(live_workers(session)) == 2
    return first, second, bridge


def state(session, *ids):
    session.expire_all()
    return {i: tuple(getattr(session.get(Enrollment, i), c) for c in LINKS) for i in ids}


def test_sweep_merges_a_person_split_by_arrival_order(session, world, pii):
    """The bridging record came last: the sweep merges the two people as a recorded automatic link, the
    first valid enrolment keeping the credit."""
    first, second, bridge = split_person(session, world, pii)
    report = sweep(session, pii, shipped_config())
    session.commit()
    assert report.linked == 1 and report.full  # the first sweep ever looks at everybody
    (worker,) = live_workers(session)
    assert {row(session, r["id"]).worker_id for r in (first, second, bridge)} == {worker.id}
    assert row(session, first["id"]).status == "verified"
    assert {row(session, r["id"]).duplicate_of for r in (second, bridge)} == {first["id"]}
    assert {row(session, r["id"]).credited_agent_id for r in (first, second, bridge)} == {world.agent_a.id}
    decision = session.execute(select(DedupDecision).where(DedupDecision.merge_id.is_not(None))).scalars().all()[-1]
    assert (decision.action, decision.user_id) == ("auto_link", None) and decision.note.startswith("sweep: p=")
    merge_row = session.get(WorkerMerge, decision.merge_id)
    assert merge_row.absorbed_worker_id is not None and merge_row.created_by is None
    assert sweep(session, pii, shipped_config()).linked == 0  # nothing left to do


def test_sweep_merge_is_undone_by_unmerge_and_not_redone(session, world, pii):
    """Unmerging a sweep's merge restores both people exactly; later sweeps leave the pair apart."""
    ids = [r["id"] for r in split_person(session, world, pii)]
    before = state(session, *ids)
    sweep(session, pii, shipped_config())
    session.commit()
    survivor = row(session, ids[0]).worker_id
    unmerge(session, merge_row=latest_merge(session, survivor), principal=principal_of(world.supervisor), pii=pii)
    session.commit()
    assert state(session, *ids) == before
    again = sweep(session, pii, shipped_config(), full=True)
    session.commit()
    assert again.linked == 0 and again.queued == 0 and len(live_workers(session)) == 2


def twin():
    return person(nik="3215011203850008", full_name="Muhammad Yunus")


def test_sweep_queues_review_pairs_once_and_never_a_distinct_one(session, world, pii):
    """A review-band pair without a candidate gets one open candidate; none twice; none once called distinct."""
    push_enrollments(session, world.agent_a, pii, person())
    push_enrollments(session, world.agent_b, pii, twin())
    assert len(candidates(session, "open")) == 1  # proposed by the push
    assert sweep(session, pii, shipped_config()).queued == 0
    session.execute(delete(DuplicateCandidate))
    session.commit()
    report = sweep(session, pii, shipped_config(), full=True)
    session.commit()
    (queued,) = candidates(session, "open")
    assert report.queued == 1 and report.linked == 0
    assert "NIK differs only in the serial number" in json.loads(queued.reasons)
    assert sweep(session, pii, shipped_config(), full=True).queued == 0
    mark_distinct(session, candidate=queued, principal=principal_of(world.supervisor), note="twins")
    session.commit()
    assert sweep(session, pii, shipped_config(), full=True).queued == 0
    assert candidates(session, "open") == [] and len(live_workers(session)) == 2


def test_sweep_gives_a_waiting_enrolment_its_person(session, world, pii):
    """An invalid record waits: the valid one pushed next does not match it. Corrected later, the valid
    record matches it (an edit claims nothing at the push): the sweep gives it its person."""
    waiting = noisy() | {"programs": "JHT"}
    valid = serial_typo()
    push_enrollments(session, world.agent_b, pii, waiting)
    push_enrollments(session, world.agent_a, pii, valid)
    assert row(session, waiting["id"]).worker_id is None
    update_enrollments(session, world.agent_a, pii, person() | {"id": valid["id"]})
    assert row(session, waiting["id"]).worker_id is None
    report = sweep(session, pii, shipped_config())
    session.commit()
    assert report.claimed == 1 and row(session, waiting["id"]).worker_id == row(session, valid["id"]).worker_id
    assert row(session, waiting["id"]).status == "needs_correction"


def test_invalid_records_are_no_evidence(session, world, pii):
    """A nameless invalid record linked to a person does not link the person's twin to it."""
    push_enrollments(session, world.agent_a, pii, person())
    nameless = person(nik="3215011203850004", full_name="", phone="081299998804")
    push_enrollments(session, world.agent_a, pii, nameless)
    assert row(session, nameless["id"]).status == "needs_correction" and row(session, nameless["id"]).worker_id
    other = twin()
    assert push_enrollments(session, world.agent_b, pii, other)[other["id"]]["status"] == "verified"
    assert sweep(session, pii, shipped_config(), full=True).linked == 0 and len(live_workers(session)) == 2


def test_incremental_sweep_starts_where_the_last_ended(session, world, pii):
    """After a first (full) sweep, the next looks only at people changed since (less the overlap)."""
    push_enrollments(session, world.agent_a, pii, person())
    first = sweep(session, pii, shipped_config())
    session.commit()
    push_enrollments(session, world.agent_b, pii, twin())
    second = sweep(session, pii, shipped_config())
    session.commit()
    assert first.full and not second.full and second.since == first.until - 10 * 60_000
    logged = session.execute(select(DedupSweep).order_by(DedupSweep.id)).scalars().all()
    assert [s.full for s in logged] == [True, False] and logged[1].until_stamp >= logged[0].until_stamp


def test_leased_job_sweeps_once_across_instances(engine, session, world, pii):
    """Two scheduler instances tick at the same moment: one of them sweeps, the other finds the job taken."""
    split_person(session, world, pii)
    session.commit()  # no snapshot of ours held across the instances' transactions
    every = housekeeping_jobs(DispatchSettings(), pii=pii, dedup=shipped_config())
    jobs = [j for j in every if j.name == "dedup_sweep"]
    assert jobs

    def factory():
        return Session(engine)

    ran: dict[str, list[str]] = {}
    if engine.dialect.name == "postgresql":
        barrier = threading.Barrier(2)

        def tick(me):
            barrier.wait()
            ran[me] = run_due_jobs(factory, jobs, me=me, now=10**13)

        threads = [threading.Thread(target=tick, args=(me,)) for me in ("one", "two")]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    else:
        for me in ("one", "two"):
            ran[me] = run_due_jobs(factory, jobs, me=me, now=10**13)
    assert sorted(ran.values()) == [[], ["dedup_sweep"]]
    session.commit()
    assert len(session.execute(select(DedupSweep)).scalars().all()) == 1
    assert len(live_workers(session)) == 1
    assert len(session.execute(select(WorkerMerge).where(WorkerMerge.absorbed_worker_id.is_not(None))).all()) == 1


# -- incremental pushes in any order + a full sweep == the batch clustering


RECORDS = generate(240, seed=11, agents=3, missing=0.3)  # seen to split people in two of the orders
FIELDS = ("nik", "full_name", "birth_date", "sex", "phone", "occupation", "address", "village", "programs")


def push_in_order(session, world, pii, seed: int) -> None:
    """The records in a shuffled arrival order, each agent pushing what it has in batches of random size."""
    rng = random.Random(seed)
    agents = [world.agent_a, world.agent_b, world.agent_c]
    order = RECORDS[:]
    rng.shuffle(order)
    pending: dict[int, list[dict]] = defaultdict(list)
    size = {a: rng.randint(1, 12) for a in range(3)}
    for record in order:
        agent = record["_agent"]
        pending[agent].append(enrollment(id=record["id"], **{f: record[f] for f in FIELDS}))
        if len(pending[agent]) >= size[agent]:
            push_enrollments(session, agents[agent], pii, *pending.pop(agent))
            size[agent] = rng.randint(1, 12)
    for agent, records in pending.items():
        push_enrollments(session, agents[agent], pii, *records)


def stored_clusters(session) -> set[frozenset[str]]:
    people: dict[str, set[str]] = defaultdict(set)
    for eid, wid in session.execute(select(Enrollment.id, Enrollment.worker_id)):
        people[wid or f"alone:{eid}"].add(eid)
    return {frozenset(ids) for ids in people.values()}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_pushes_in_any_order_then_a_sweep_equal_the_batch(session, world, pii, seed):
    """Three shuffled arrival orders: after a full sweep the people are the batch clustering, except where
    a fact (twins' NIKs) stands between two records of the people that differ: there a record resembling
    both stays with the one it met first (docs/domain.md "The sweep")."""
    push_in_order(session, world, pii, seed)
    report = sweep(session, pii, shipped_config(), full=True, chunk=40)
    session.commit()
    rows = session.execute(select(Enrollment.id, Enrollment.status, *person_columns(Enrollment))).all()
    persons = {r.id: stored_person(r, pii) for r in rows}
    valid = {r.id for r in rows if r.status != "needs_correction"}
    batch = batch_clusters(persons, shipped_config(), lambda p: key_set(p, pii), valid=valid)
    stored = stored_clusters(session)
    differing = sorted({rid for group in stored ^ set(batch) for rid in group} & valid)
    facts = [
        (a, b)
        for a, b in itertools.combinations(differing, 2)
        if judge(shipped_config(), persons[a], persons[b]).blockers
    ]
    assert not differing or facts, (report, stored ^ set(batch))
    assert len(differing) <= 6  # one twin household at most, not a drift
    assert sweep(session, pii, shipped_config(), full=True).linked == 0
    assert any(len(c) > 1 for c in batch) and report.pairs > 0


def test_a_fact_keeps_two_people_apart_whatever_resembles_both(pii):
    """Bambang (serial 0031) and his twin Bambang Djunaidi (0030) may never be one person; a third record
    (0032, "Bambang") links with both, and joins the one it resembles most, never bridging the two."""
    from sync.enrollments.duplicates.matcher import person_of

    home = {"birth_date": "1985-03-12", "village": "Pasir Maju", "address": "Gg. Sawo III No. 36 RT 08 RW 12"}

    def seen(nik: str, name: str):
        return person_of(nik=nik, full_name=name, sex="M", phone_index=None, **home)

    persons = {
        "a": seen("3215011203850030", "Bambang Djunaidi"),
        "b": seen("3215011203850031", "Bambang"),
        "c": seen("3215011203850032", "Bambang"),
    }
    groups = batch_clusters(persons, shipped_config(), lambda p: key_set(p, pii))
    assert set(groups) == {frozenset({"a"}), frozenset({"b", "c"})}
