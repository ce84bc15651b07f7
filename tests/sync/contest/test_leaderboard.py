"""The branch and agent tables on crafted data, every expected number worked out by hand in the comments.

Periods (Asia/Jakarta): P0 = Dec 2030 (no enrolments), P1 = Jan 2031 (31 days), P2 = Feb 2031 (28 days),
targets in P2: KCU-KARAWANG 4, KCU-MAKASSAR 3, KC-BEKASI 7. Enrolments, each a new person, listed by the
moment the server found them valid (``valid_since``, the push's stamp) and their credit time:

  KCU-KARAWANG  a: Jan 5 · b: Jan 20 · a: pushed Feb 2 10:00, captured Jan 30 09:00 (3 days earlier: credit
                Jan 30, period 1) · a: Feb 3 · a: pushed Feb 9 12:00, phone clock 10 days back (captured
                Jan 30 12:00: credit Feb 9, period 2) · a: Feb 15
  KCU-MAKASSAR  c: Jan 8 · c: Feb 2 · c: pushed Feb 4 12:00, phone clock ahead (captured Feb 20: credit Feb 4)
  KC-BEKASI     Jan 3, Jan 4, Jan 25 · Feb 5          KC-CIREBON  Jan 9, Jan 10 · Feb 6
  KC-AMBON      Jan 2, Jan 28 · Feb 7                 KC-GARUT    Jan 15           KC-DENPASAR  nothing
"""

from __future__ import annotations

import pytest

from sync.contest import leaderboard
from sync.contest.credit import rebuild_credits
from sync.errors import InvalidRequest, NotFound
from tests.factories import principal_of
from tests.sync.contest.support import at, board, branch_with_agent, counted, enrol, period, push_as, visit_at


@pytest.fixture
def contest(session, world, pii):
    k, m = world.karawang, world.makassar
    bekasi, bekasi1 = branch_with_agent(session, "KC-BEKASI", "bekasi1")
    cirebon, cirebon1 = branch_with_agent(session, "KC-CIREBON", "cirebon1")
    ambon, ambon1 = branch_with_agent(session, "KC-AMBON", "ambon1")
    garut, garut1 = branch_with_agent(session, "KC-GARUT", "garut1")
    branch_with_agent(session, "KC-DENPASAR")
    a, b, c = world.agent_a, world.agent_b, world.agent_c
    p0 = period(session, "Periode 0", "2030-12-01", "2030-12-31")
    p1 = period(session, "Periode 1", "2031-01-01", "2031-01-31")
    p2 = period(session, "Periode 2", "2031-02-01", "2031-02-28", {k.id: 4, m.id: 3, bekasi.id: 7})
    plan = [  # (agent, valid_since, captured_at or None = the same)
        (ambon1, at("2031-01-02"), None),
        (bekasi1, at("2031-01-03"), None),
        (bekasi1, at("2031-01-04"), None),
        (a, at("2031-01-05"), None),
        (c, at("2031-01-08"), None),
        (cirebon1, at("2031-01-09"), None),
        (cirebon1, at("2031-01-10"), None),
        (garut1, at("2031-01-15"), None),
        (b, at("2031-01-20"), None),
        (bekasi1, at("2031-01-25"), None),
        (ambon1, at("2031-01-28"), None),
        (a, at("2031-02-02", 10), at("2031-01-30", 9)),  # within the week before: credit Jan 30
        (c, at("2031-02-02"), None),
        (a, at("2031-02-03"), None),
        (c, at("2031-02-04"), at("2031-02-20")),  # clock ahead: credit at valid_since
        (bekasi1, at("2031-02-05"), None),
        (cirebon1, at("2031-02-06"), None),
        (ambon1, at("2031-02-07"), None),
        (a, at("2031-02-09"), at("2031-01-30")),  # clock 10 days back: credit at valid_since
        (a, at("2031-02-15"), None),
    ]
    for agent, valid_since, captured in plan:
        enrol(session, pii, agent, valid_since, captured)
    visit_at(session, pii, a, at("2031-02-03", 10))
    visit_at(session, pii, b, at("2031-01-20"))
    visit_at(session, pii, c, at("2031-02-10", 13))  # after as_of
    visit_at(session, pii, bekasi1, at("2031-02-05"))
    gone = visit_at(session, pii, cirebon1, at("2031-02-06"))
    push_as(session, pii, cirebon1, {"visits": {"deleted": [gone["id"]]}})
    visit_at(session, pii, ambon1, at("2031-01-31", 23, 30))  # the evening before period 2
    visit_at(session, pii, garut1, at("2031-02-01", 0))  # period 2's first millisecond
    return {"p0": p0, "p1": p1, "p2": p2, "k": k, "m": m, "a": a, "b": b}


def line(item: dict) -> tuple:
    keys = ("rank", "enrollments", "previous_enrollments", "growth_pct", "previous_to_date", "growth_to_date_pct")
    return tuple(item[k] for k in keys)


def test_mid_period_table(session, contest):
    """as_of = Feb 10 12:00: elapsed_days = 10 (Feb 1…9 whole, Feb 10 part), period_days = 28; period 1's
    first 10 days are [Jan 1, Jan 11)."""
    table = leaderboard.branch_leaderboard(session, period_id=contest["p2"].id, as_of=at("2031-02-10"))
    assert (table["elapsed_days"], table["period_days"]) == (10, 28)
    assert table["previous_period"]["id"] == contest["p1"].id and table["as_of"] == at("2031-02-10")
    rows = {i["branch_code"]: i for i in table["items"]}
    assert [i["branch_code"] for i in table["items"]] == [
        "KCU-MAKASSAR",  # 2 enrolments, growth +100.0
        "KCU-KARAWANG",  # 2 enrolments, growth -33.3
        "KC-AMBON",  # 1, -50.0, then the code: AMBON before CIREBON
        "KC-CIREBON",  # 1, -50.0
        "KC-BEKASI",  # 1, -66.7
        "KC-GARUT",  # 0, -100.0 (a growth, so before the null)
        "KC-DENPASAR",  # 0, growth null: last
    ]
    # rank, enrollments, previous, growth, previous_to_date, growth_to_date
    # Makassar: Feb 2, Feb 4 = 2; Jan 8 = 1; (2-1)/1 = +100.0; to date Jan 8 = 1 → +100.0
    assert line(rows["KCU-MAKASSAR"]) == (1, 2, 1, 100.0, 1, 100.0)
    # Karawang: Feb 3, Feb 9 = 2 (Feb 15 is after as_of); Jan 5, 20, 30 = 3; (2-3)/3 = -33.33 → -33.3;
    # to date Jan 5 = 1 → (2-1)/1 = +100.0
    assert line(rows["KCU-KARAWANG"]) == (2, 2, 3, -33.3, 1, 100.0)
    # Ambon: Feb 7 = 1; Jan 2, 28 = 2 → -50.0; to date Jan 2 = 1 → 0.0
    assert line(rows["KC-AMBON"]) == (3, 1, 2, -50.0, 1, 0.0)
    # Cirebon: Feb 6 = 1; Jan 9, 10 = 2 → -50.0; to date both (Jan 10 12:00 < Jan 11) = 2 → -50.0
    assert line(rows["KC-CIREBON"]) == (4, 1, 2, -50.0, 2, -50.0)
    # Bekasi: Feb 5 = 1; Jan 3, 4, 25 = 3 → (1-3)/3 = -66.67 → -66.7; to date Jan 3, 4 = 2 → -50.0
    assert line(rows["KC-BEKASI"]) == (5, 1, 3, -66.7, 2, -50.0)
    # Garut: 0; Jan 15 = 1 → -100.0; to date 0 → null (divisor 0)
    assert line(rows["KC-GARUT"]) == (6, 0, 1, -100.0, 0, None)
    assert line(rows["KC-DENPASAR"]) == (7, 0, 0, None, 0, None)
    # Targets: Karawang 2/4 = 50.0, Makassar 2/3 = 66.67 → 66.7, Bekasi 1/7 = 14.29 → 14.3, others null.
    targets = {code: (r["target"], r["target_pct"]) for code, r in rows.items()}
    assert targets == {
        "KCU-KARAWANG": (4, 50.0),
        "KCU-MAKASSAR": (3, 66.7),
        "KC-BEKASI": (7, 14.3),
        "KC-CIREBON": (None, None),
        "KC-AMBON": (None, None),
        "KC-GARUT": (None, None),
        "KC-DENPASAR": (None, None),
    }
    # Visits in [Feb 1 00:00, Feb 10 12:00): agen.a Feb 3, bekasi1 Feb 5, garut1 at Feb 1 00:00 exactly.
    # Not: agen.b (January), agen.c (Feb 10 13:00), cirebon1 (deleted), ambon1 (Jan 31 23:30).
    active = {code: r["active_agents"] for code, r in rows.items()}
    assert active == {
        "KCU-KARAWANG": 1,
        "KCU-MAKASSAR": 0,
        "KC-BEKASI": 1,
        "KC-CIREBON": 0,
        "KC-AMBON": 0,
        "KC-GARUT": 1,
        "KC-DENPASAR": 0,
    }
    assert {r["branch_name"] for r in rows.values()} >= {"Branch KC-BEKASI"} and rows["KC-BEKASI"]["kind"] == "KCU"


def test_period_with_zero_previous_enrolments(session, contest):
    """Period 1 after its end: its previous period (Dec 2030) has no enrolment, so every growth is null and
    ranks fall to enrolments, then the code (KC-BEKASI before KCU-KARAWANG at 3 each)."""
    table = leaderboard.branch_leaderboard(session, period_id=contest["p1"].id, as_of=at("2031-03-01"))
    assert (table["elapsed_days"], table["period_days"]) == (31, 31)
    assert table["previous_period"]["name"] == "Periode 0"
    got = [(i["branch_code"], i["enrollments"], i["previous_enrollments"], i["growth_pct"]) for i in table["items"]]
    assert got == [
        ("KC-BEKASI", 3, 0, None),
        ("KCU-KARAWANG", 3, 0, None),  # Jan 5, Jan 20 and the Jan 30 capture
        ("KC-AMBON", 2, 0, None),
        ("KC-CIREBON", 2, 0, None),
        ("KC-GARUT", 1, 0, None),
        ("KCU-MAKASSAR", 1, 0, None),
        ("KC-DENPASAR", 0, 0, None),
    ]
    assert {i["previous_to_date"] for i in table["items"]} == {0}
    assert {i["growth_to_date_pct"] for i in table["items"]} == {None}


def test_no_previous_period_means_nulls(session, contest):
    table = leaderboard.branch_leaderboard(session, period_id=contest["p0"].id, as_of=at("2031-03-01"))
    assert table["previous_period"] is None
    for item in table["items"]:
        assert item["enrollments"] == 0
        assert (item["previous_enrollments"], item["previous_to_date"], item["growth_pct"]) == (None, None, None)


def test_after_the_end_and_at_the_start(session, contest):
    """After the end (Mar 5): all 28 days count (Karawang: Feb 3, 9, 15 = 3) against period 1's first 28
    days [Jan 1, Jan 29) (Karawang: Jan 5, 20 = 2): growth (3-3)/3 = 0.0, to date (3-2)/2 = +50.0.
    At Feb 1 00:00 exactly nothing has elapsed: 0 enrolments, previous to date 0 → null."""
    late = board(session, contest["p2"].id, at("2031-03-05"))
    assert line(late["KCU-KARAWANG"])[1:] == (3, 3, 0.0, 2, 50.0)
    start = leaderboard.branch_leaderboard(session, period_id=contest["p2"].id, as_of=at("2031-02-01", 0))
    assert start["elapsed_days"] == 0
    karawang = next(i for i in start["items"] if i["branch_code"] == "KCU-KARAWANG")
    assert line(karawang)[1:] == (0, 3, -100.0, 0, None) and karawang["active_agents"] == 0
    one_ms = leaderboard.branch_leaderboard(session, period_id=contest["p2"].id, as_of=at("2031-02-01", 0) + 1)
    assert one_ms["elapsed_days"] == 1


def test_agent_table_sums_to_the_branch(session, world, contest):
    """Karawang at Feb 10 12:00. agen.a: Feb 3, 9 = 2; previous Jan 5, 30 = 2 → 0.0; to date Jan 5 = 1 →
    +100.0. agen.b: 0; previous Jan 20 = 1 → -100.0; to date 0 → null. Sums: 2 and 3, the branch's."""
    spv = principal_of(world.supervisor)
    table = leaderboard.agent_leaderboard(session, principal=spv, period_id=contest["p2"].id, as_of=at("2031-02-10"))
    assert table["branch"]["code"] == "KCU-KARAWANG"
    got = [(i["username"], *line(i), i["active"], i["in_branch"]) for i in table["items"]]
    assert got == [
        ("agen.a", 1, 2, 2, 0.0, 1, 100.0, True, True),
        ("agen.b", 2, 0, 1, -100.0, 0, None, False, True),
    ]
    admin = principal_of(world.admin)
    makassar = leaderboard.agent_leaderboard(
        session, principal=admin, branch_id=world.makassar.id, period_id=contest["p2"].id, as_of=at("2031-02-10")
    )
    assert [(i["username"], i["enrollments"]) for i in makassar["items"]] == [("agen.c", 2)]
    with pytest.raises(NotFound) as other:
        leaderboard.agent_leaderboard(session, principal=spv, branch_id=world.makassar.id, period_id=contest["p2"].id)
    assert "branch_id" in other.value.errors
    with pytest.raises(InvalidRequest) as unnamed:
        leaderboard.agent_leaderboard(session, principal=admin, period_id=contest["p2"].id)
    assert "branch_id" in unnamed.value.errors


def test_default_period_is_the_one_running(session, contest):
    """Without a period id: the period running at as_of, else the latest ended; none at all is a 404."""
    assert leaderboard.branch_leaderboard(session, as_of=at("2031-02-10"))["period"]["id"] == contest["p2"].id
    assert leaderboard.branch_leaderboard(session, as_of=at("2031-07-01"))["period"]["id"] == contest["p2"].id
    with pytest.raises(NotFound) as early:
        leaderboard.branch_leaderboard(session, as_of=at("2030-01-01"))
    assert "period_id" in early.value.errors
    with pytest.raises(NotFound):
        leaderboard.branch_leaderboard(session, period_id="nope", as_of=at("2031-02-10"))


def test_standing_gives_rank_and_pace(session, contest):
    """Karawang at Feb 10 12:00: rank 2 of 7; projected 2 × 28 / 10 = 5.6; target to date 4 × 10 / 28 = 1.43 → 1.4."""
    table = leaderboard.branch_leaderboard(session, period_id=contest["p2"].id, as_of=at("2031-02-10"))
    mine = leaderboard.standing(table, contest["k"].id)
    assert (mine["rank"], mine["branches"], mine["projected"], mine["target_to_date"]) == (2, 7, 5.6, 1.4)
    assert leaderboard.standing(table, "nope") is None


def test_rebuild_gives_the_same_rows(session, contest):
    """The whole-table rebuild and the rows kept by the pushes agree."""
    kept = counted(session)
    assert len(kept) == 20
    rebuild_credits(session)
    session.commit()
    assert counted(session) == kept


@pytest.mark.parametrize(
    ("numerator", "denominator", "expected"),
    [(2, 3, 66.7), (-1, 3, -33.3), (1, 8, 12.5), (1, 2000, 0.1), (-1, 2000, -0.1), (1, 30000, 0.0), (5, 0, None)],
)
def test_percentages_round_halves_away_from_zero(numerator, denominator, expected):
    """1/2000 × 100 = 0.05 exactly → 0.1; 2/3 → 66.666… → 66.7; a divisor of 0 → null."""
    assert leaderboard.pct(numerator, denominator) == expected
    assert leaderboard.one_decimal(-1, 30000) == 0.0 and leaderboard.one_decimal(5, -2) == -2.5


def test_branch_standing_for_a_dashboard(session, contest):
    """The dashboard's call: the same line as in the full table (Karawang, rank 2, 1 active agent)."""
    mine = leaderboard.branch_standing(
        session, branch_id=contest["k"].id, period_id=contest["p2"].id, as_of=at("2031-02-10")
    )
    assert mine["elapsed_days"] == 10 and mine["period"]["id"] == contest["p2"].id
    line = mine["standing"]
    assert (line["rank"], line["enrollments"], line["active_agents"], line["projected"]) == (2, 2, 1, 5.6)
    assert leaderboard.branch_standing(session, branch_id="nope", period_id=contest["p2"].id) is None
