"""Credit kept current by the writers: merges and unmerges across branches, one NIK twice, deletions,
registry members, an agent moving branch mid-period, and the credit-time rule at its edges.

Every board below is period "Februari" (Feb 1–28 2031, Asia/Jakarta) read at as_of; expected counts by hand.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
from pathlib import Path

import pytest
from sqlalchemy import delete, select, text, update

from sync.contest.branches import BranchTimeline
from sync.contest.credit import WEEK_MS, credit_time, refresh_credits
from sync.contest.moves import record_branch_move
from sync.enrollments.duplicates.merge import latest_merge, mark_distinct, merge, recompute_people, unmerge
from sync.errors import NotFound
from sync.models import User, Worker, new_id
from sync.models.contest import ContestCredit, UserBranchHistory
from sync.models.dedup import DuplicateCandidate
from tests.factories import enrollment, principal_of, valid_nik
from tests.sync.contest.support import at, board, counted, enrol, period, push_at, set_clock, visit_at

END = at("2031-03-01")


@pytest.fixture
def february(session):
    return period(session, "Februari", "2031-02-01", "2031-02-28")


def counts(session, february, as_of=END) -> tuple[int, int]:
    """(Karawang, Makassar) enrolments."""
    table = board(session, february.id, as_of)
    return table["KCU-KARAWANG"]["enrollments"], table["KCU-MAKASSAR"]["enrollments"]


def twins() -> tuple[dict, dict]:
    """Two people a reviewer must tell apart (NIKs one serial apart, same birth date and village)."""
    birth = dt.date(1985, 5, 17)

    def someone(name: str, serial: int) -> dict:
        return enrollment(
            nik=valid_nik(serial, birth=birth),
            full_name=name,
            birth_date=birth.isoformat(),
            sex="M",
            phone=f"08131985{serial:04d}",
            village="Desa Yusuf",
        )

    return someone("Muhammad Yusuf", 21), someone("Muhammad Yunus", 22)


def open_candidate(session) -> DuplicateCandidate:
    session.expire_all()
    return session.execute(select(DuplicateCandidate).where(DuplicateCandidate.status == "open")).scalar_one()


def test_merge_and_unmerge_across_branches_move_the_count(session, world, pii, february):
    """agen.c (Makassar) enrols Yusuf on Feb 2, agen.a (Karawang) his twin on Feb 3: two people, (1, 1).
    The admin merges them: one person, credited to the first valid enrolment (Feb 2, Makassar): (0, 1).
    Undoing the merge gives Karawang its person back: (1, 1)."""
    first, second = twins()
    push_at(session, pii, world.agent_c, at("2031-02-02"), first)
    push_at(session, pii, world.agent_a, at("2031-02-03"), second)
    assert counts(session, february) == (1, 1)
    admin = principal_of(world.admin)
    set_clock(session, at("2031-02-04"))
    made = merge(session, candidate=open_candidate(session), principal=admin, note="orang yang sama")
    session.commit()
    assert counts(session, february) == (0, 1)
    assert len(counted(session)) == 1  # the absorbed person's row is gone
    unmerge(session, merge_row=latest_merge(session, made.survivor_worker_id), principal=admin, pii=pii)
    session.commit()
    assert counts(session, february) == (1, 1)


def nik_twice(session, world, pii) -> tuple[dict, dict]:
    """agen.a enrols one person on Feb 2, agen.c another on Feb 3, then agen.c corrects the second one's
    NIK to the first one's (an edit keeps its person): two live people share a NIK."""
    first = enrol(session, pii, world.agent_a, at("2031-02-02"))
    second = enrol(session, pii, world.agent_c, at("2031-02-03"))
    edit = {k: v for k, v in second.items() if k != "worker_id"} | {"nik": first["nik"], "_status": "updated"}
    result = push_at(session, pii, world.agent_c, at("2031-02-03", 13), updated=(edit,))[second["id"]]
    assert result["status"] == "verified" and result["worker_id"] == second["worker_id"]
    return first, second


def queue_pair(session, first: dict, second: dict) -> DuplicateCandidate:
    """The pair in the supervisors' review queue: the NIK edit opened it, whatever the pair's score (one
    NIK is credited once until somebody decides, so the decision must be asked for)."""
    candidate = open_candidate(session)
    assert {candidate.worker_id, candidate.other_worker_id} == {first["worker_id"], second["worker_id"]}
    assert "same NIK: credited once until a supervisor decides" in json.loads(candidate.reasons)
    return candidate


def test_one_nik_twice_earns_nothing_until_decided_distinct_with_a_note(session, world, pii, february):
    """Both people share a NIK: neither counts, (0, 0), while the pair is undecided; "distinct" with a note
    releases both: (1, 1)."""
    first, second = nik_twice(session, world, pii)
    assert counts(session, february) == (0, 0)
    assert {c for _, _, c in counted(session).values()} == {False}
    candidate = queue_pair(session, first, second)
    set_clock(session, at("2031-02-04"))
    spv = principal_of(world.supervisor)
    mark_distinct(session, candidate=candidate, principal=spv, note="dua orang: NIK salah ketik")
    session.commit()
    assert counts(session, february) == (1, 1)


def test_one_nik_twice_distinct_without_a_note_stays_held(session, world, pii, february):
    candidate = queue_pair(session, *nik_twice(session, world, pii))
    set_clock(session, at("2031-02-04"))
    mark_distinct(session, candidate=candidate, principal=principal_of(world.supervisor), note="  ")
    session.commit()
    assert counts(session, february) == (0, 0)


def test_one_nik_twice_merged_counts_once(session, world, pii, february):
    """Merged, one person remains: its first valid enrolment (Feb 2, Karawang) counts: (1, 0)."""
    candidate = queue_pair(session, *nik_twice(session, world, pii))
    set_clock(session, at("2031-02-04"))
    merge(session, candidate=candidate, principal=principal_of(world.admin), note="sama")
    session.commit()
    assert counts(session, february) == (1, 0)


def test_one_nik_twice_after_an_unmerge_counts_twice(session, world, pii, february):
    """agen.c enrols a NIK agen.a enrolled the day before: the matcher links it (a duplicate, credit to
    agen.a): (1, 0). A supervisor undoes the link: two people, the pair recorded "distinct" with the
    unmerge's note, so both count: (1, 1)."""
    first = enrol(session, pii, world.agent_a, at("2031-02-02"))
    again = enrollment(nik=first["nik"], full_name="Siti Aminah", birth_date="1990-07-01", sex="F", village="Tegal")
    linked = push_at(session, pii, world.agent_c, at("2031-02-03"), again)[again["id"]]
    assert (linked["status"], linked["worker_id"]) == ("duplicate", first["worker_id"])
    assert counts(session, february) == (1, 0)
    set_clock(session, at("2031-02-04"))
    unmerge(
        session, merge_row=latest_merge(session, first["worker_id"]), principal=principal_of(world.supervisor), pii=pii
    )
    session.commit()
    assert counts(session, february) == (1, 1)


def test_deleting_a_persons_first_enrolment_hands_the_credit_to_the_next(session, world, pii, february):
    """agen.a (Karawang) enrols a person on Feb 2, agen.c (Makassar) the same person on Feb 3 (a duplicate,
    credit to agen.a): (1, 0). agen.a deletes his record on Feb 4: agen.c's becomes the first valid one,
    verified and credited to agen.c from its own valid_since (Feb 3), and agen.c's phone pulls the change:
    (0, 1)."""
    first = enrol(session, pii, world.agent_a, at("2031-02-02"))
    again = {k: v for k, v in first.items() if k != "worker_id"} | {"id": new_id()}
    linked = push_at(session, pii, world.agent_c, at("2031-02-03"), again)[again["id"]]
    assert linked["status"] == "duplicate" and counts(session, february) == (1, 0)
    push_at(session, pii, world.agent_a, at("2031-02-04"), deleted=(first["id"],))
    assert counts(session, february) == (0, 1)
    session.expire_all()
    row = session.execute(
        text("SELECT status, duplicate_of, credited_agent_id, last_modified FROM enrollments WHERE id = :i"),
        {"i": again["id"]},
    ).one()
    assert tuple(row) == ("verified", None, world.agent_c.id, at("2031-02-04"))


def test_deleting_the_counted_enrolment_drops_the_count(session, world, pii, february):
    kept = enrol(session, pii, world.agent_a, at("2031-02-02"))
    gone = enrol(session, pii, world.agent_a, at("2031-02-03"))
    assert counts(session, february) == (2, 0)
    push_at(session, pii, world.agent_a, at("2031-02-04"), deleted=(gone["id"],))
    assert counts(session, february) == (1, 0)
    assert set(counted(session)) == {kept["worker_id"]}


def test_registry_member_earns_nothing(session, world, pii, february):
    member = enrol(session, pii, world.agent_a, at("2031-02-02"))
    enrol(session, pii, world.agent_a, at("2031-02-03"))
    session.execute(update(Worker).where(Worker.id == member["worker_id"]).values(registry_status="active"))
    set_clock(session, at("2031-02-04"))
    recompute_people(session, [member["worker_id"]], at("2031-02-04"))  # what the registry import does
    session.commit()
    assert counts(session, february) == (1, 0)


@pytest.mark.parametrize("recorded", ["when it happens", "afterwards"])
def test_agent_moving_branch_mid_period(session, world, pii, february, recorded):
    """agen.b (Karawang) moves to Makassar on Feb 6 12:00. Valid Feb 3: Karawang's. Valid Feb 8 (captured
    Feb 5, so credited Feb 5): Makassar's, the branch at valid_since, not at capture. As of Feb 10: (1, 1),
    and agen.b, who visited on Feb 4, is an active agent of Makassar, the branch at as_of. As of Feb 5 13:00,
    before the move: still (1, 1) by credit time, but agen.b is active for Karawang."""
    b, moved_at = world.agent_b, at("2031-02-06")
    visit_at(session, pii, b, at("2031-02-04"))
    enrol(session, pii, b, at("2031-02-03"))
    if recorded == "when it happens":
        set_clock(session, moved_at - 1)
        assert record_branch_move(session, b.id, world.makassar.id) == moved_at
        session.commit()
    enrol(session, pii, b, at("2031-02-08"), captured_at=at("2031-02-05"))
    if recorded == "afterwards":  # re-credits what the agent earned from that moment on
        assert record_branch_move(session, b.id, world.makassar.id, at=moved_at) == moved_at
        session.commit()
    late = board(session, february.id, at("2031-02-10"))
    assert [(late[c]["enrollments"], late[c]["active_agents"]) for c in ("KCU-KARAWANG", "KCU-MAKASSAR")] == [
        (1, 0),
        (1, 1),
    ]
    early = board(session, february.id, at("2031-02-05", 13))
    assert [(early[c]["enrollments"], early[c]["active_agents"]) for c in ("KCU-KARAWANG", "KCU-MAKASSAR")] == [
        (1, 1),
        (1, 0),
    ]
    assert session.get(User, b.id).branch_id == world.makassar.id
    history = session.execute(select(UserBranchHistory.branch_id).order_by(UserBranchHistory.since)).scalars()
    assert list(history) == [world.karawang.id, world.makassar.id]


def test_moving_to_the_same_branch_or_an_unknown_user(session, world):
    assert record_branch_move(session, world.agent_a.id, world.karawang.id) is None
    with pytest.raises(NotFound):
        record_branch_move(session, "nobody", world.karawang.id)


def test_refresh_of_nobody_is_a_no_op(session):
    refresh_credits(session, [None])


@pytest.mark.parametrize(
    ("captured", "credited"),
    [
        (1_000 * WEEK_MS, 1_000 * WEEK_MS),  # the same moment
        (999 * WEEK_MS, 999 * WEEK_MS),  # exactly 7 days before: still the capture
        (999 * WEEK_MS - 1, 1_000 * WEEK_MS),  # one ms more: the server's moment
        (1_000 * WEEK_MS + 1, 1_000 * WEEK_MS),  # ahead of the server: never forward
        (None, 1_000 * WEEK_MS),
    ],
)
def test_credit_time_edges(captured, credited):
    assert credit_time(captured, 1_000 * WEEK_MS) == credited


def test_branch_timeline():
    """Latest row at or before the moment; before all rows the first; without rows, or after the last move,
    the current branch (which a move sets to its row's)."""
    timeline = BranchTimeline(
        current={"u": "c", "v": "here", "x": "set by hand"},
        moves={"u": [(100, 1, "a"), (200, 2, "b"), (200, 3, "c")], "x": [(100, 1, "a")]},
    )
    assert [timeline.branch_at("u", t) for t in (50, 100, 199, 200, 900)] == ["a", "a", "a", "c", "c"]
    assert timeline.branch_at("v", 0) == "here" and timeline.branch_at("w", 0) is None
    assert (timeline.branch_at("x", 50), timeline.branch_at("x", 150)) == ("a", "set by hand")


def test_migration_backfill_agrees_with_the_engine(session, world, pii, february):
    """Migration 0006 fills ``contest_credits`` with SQL of its own; on the same data (a merge, a held
    same-NIK pair, one released by an unmerge, a deletion, captures inside and outside the week) it writes
    the engine's rows."""
    first, second = twins()
    push_at(session, pii, world.agent_c, at("2031-02-02"), first)
    push_at(session, pii, world.agent_a, at("2031-02-03"), second)
    set_clock(session, at("2031-02-04"))
    merge(session, candidate=open_candidate(session), principal=principal_of(world.admin), note="sama")
    session.commit()
    shared = enrol(session, pii, world.agent_b, at("2031-02-05"))  # then given the first NIK: held with it
    edit = {k: v for k, v in shared.items() if k != "worker_id"} | {"nik": first["nik"], "_status": "updated"}
    push_at(session, pii, world.agent_b, at("2031-02-05", 13), updated=(edit,))
    enrol(session, pii, world.agent_a, at("2031-02-06"), captured_at=at("2031-02-01"))
    enrol(session, pii, world.agent_c, at("2031-02-07"), captured_at=at("2031-01-20"))
    gone = enrol(session, pii, world.agent_b, at("2031-02-08"))
    push_at(session, pii, world.agent_b, at("2031-02-09"), deleted=(gone["id"],))
    kept = enrol(session, pii, world.agent_a, at("2031-02-10"))
    again = enrollment(nik=kept["nik"], full_name="Siti Aminah", birth_date="1990-07-01", sex="F", village="Tegal")
    push_at(session, pii, world.agent_c, at("2031-02-11"), again)  # linked, then the link is undone
    set_clock(session, at("2031-02-12"))
    unmerge(session, merge_row=latest_merge(session, kept["worker_id"]), principal=principal_of(world.admin), pii=pii)
    session.commit()
    engine_rows = counted(session)
    assert sorted(c for _, _, c in engine_rows.values()) == [False, False, True, True, True, True]
    path = Path(__file__).parents[3] / "server" / "migrations" / "versions" / "0006_contest.py"
    spec = importlib.util.spec_from_file_location("migration_0006", path)
    assert spec is not None and spec.loader is not None
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    session.execute(delete(ContestCredit))
    session.execute(text(migration.BACKFILL))
    session.commit()
    assert counted(session) == engine_rows
