"""The map's rollup (``visit_cells``, ``sync.visits.rollup``) stays exact through pushes, and zoomed-out
views read it without changing any answer.

Every check compares two things that must be equal: the rollup the pushes maintained with one rebuilt
from ``visits``, and the clusters computed from the rollup with those computed from ``visits`` directly
(cell by cell: count, flagged count, mean position), for many filter combinations and zooms.
"""

from __future__ import annotations

import pytest
from sqlalchemy import delete, select

from sync.models.visit_cells import VisitCell
from sync.visits import clusters as visit_clusters
from sync.visits import rollup as visit_rollup
from sync.visits.listing import VisitFilters
from tests.factories import principal_of, visit

from .geo_support import BANDUNG, DAY, HOUR, JAKARTA, KARAWANG, SURABAYA, at, flags_of, local_morning, push_visits

MAKASSAR = (-5.1477, 119.4327)
ZOOMS = (2, 5, 8, 10)


def rollup_rows(session) -> list[tuple]:
    rows = session.execute(
        select(
            VisitCell.cx,
            VisitCell.cy,
            VisitCell.branch_id,
            VisitCell.agent_id,
            VisitCell.day,
            VisitCell.outcome,
            VisitCell.flagged,
            VisitCell.count,
            VisitCell.sum_lat,
            VisitCell.sum_lon,
        )
    )
    return sorted((*r[:6], bool(r.flagged), r.count, round(r.sum_lat, 9), round(r.sum_lon, 9)) for r in rows)


def assert_rollup_fresh(session) -> None:
    """The rollup the pushes left equals one rebuilt from scratch."""
    kept = rollup_rows(session)
    visit_rollup.rebuild(session)
    assert kept == rollup_rows(session)
    session.rollback()


def clusters(session, principal, filters: VisitFilters, zoom: int, *, use_rollup: bool) -> dict:
    cells = visit_clusters.cluster_cells(
        session, principal=principal, filters=filters, zoom=zoom, use_rollup=use_rollup
    )
    session.rollback()
    return {(c["row"], c["col"]): c for c in cells}


def assert_paths_agree(session, principal, filters: VisitFilters, zoom: int) -> dict:
    rolled = clusters(session, principal, filters, zoom, use_rollup=True)
    direct = clusters(session, principal, filters, zoom, use_rollup=False)
    assert {k: (c["count"], c["flagged"]) for k, c in rolled.items()} == {
        k: (c["count"], c["flagged"]) for k, c in direct.items()
    }, (filters, zoom)
    for key, cell in direct.items():
        assert rolled[key]["lat"] == pytest.approx(cell["lat"], abs=1e-9)
        assert rolled[key]["lon"] == pytest.approx(cell["lon"], abs=1e-9)
    return direct


def filter_sets(world, t: int) -> list[VisitFilters]:
    day_start = t // DAY * DAY
    return [
        VisitFilters(),
        VisitFilters(branch_id=world.karawang.id),
        VisitFilters(agent_id=world.agent_a.id),
        VisitFilters(outcome="enrolled"),
        VisitFilters(date_from=day_start - 5 * DAY, date_to=day_start + DAY - 1),  # whole days
        VisitFilters(date_from=t - 5 * DAY + 3 * HOUR, date_to=t + 2 * HOUR),  # cut through days with visits
        VisitFilters(bbox=(94.0, -11.5, 141.5, 6.5)),  # the country
        VisitFilters(bbox=(106.8272, -6.9175, 107.3376, -6.1754)),  # edges through visited cells
        VisitFilters(bbox=(106.83, -6.91, 107.34, -6.0)),  # visits just outside, in the edge cells
        VisitFilters(bbox=(107.3, -6.4, 107.4, -6.3)),  # smaller than the interior of any cell
        VisitFilters(
            branch_id=world.karawang.id,
            outcome="interested",
            date_from=t - 9 * DAY + 1,
            bbox=(105.0, -8.0, 113.0, -6.0),
        ),
    ]


def assert_all_agree(session, world, t: int) -> None:
    assert_rollup_fresh(session)
    people = [world.admin, world.supervisor, world.supervisor_makassar, world.agent_a]
    for person in people:
        principal = principal_of(person)
        for filters in filter_sets(world, t):
            for zoom in ZOOMS:
                assert_paths_agree(session, principal, filters, zoom)


@pytest.fixture
def field(session, world, pii):
    """Three agents' visits over three weeks in five towns, two outcomes."""
    t = local_morning()
    towns = (KARAWANG, BANDUNG, JAKARTA, KARAWANG, BANDUNG)
    a = [
        visit(visited_at=t - d * DAY + (d % 3) * HOUR, outcome=("enrolled", "interested")[d % 2], **at(towns[d % 5]))
        for d in range(0, 21, 2)
    ]
    b = [visit(visited_at=t - d * DAY, **at(KARAWANG, east_m=300 * d)) for d in range(0, 21, 3)]
    c = [visit(visited_at=t - d * DAY, **at(MAKASSAR, north_m=500 * d)) for d in range(0, 21, 5)]
    push_visits(session, pii, world.agent_a, created=a)
    push_visits(session, pii, world.agent_b, created=b)
    push_visits(session, pii, world.agent_c, created=c)
    return {"t": t, "a": a, "b": b, "c": c}


def test_pushed_visits_fill_the_rollup_and_both_paths_agree(session, world, field):
    """After plain pushes the rollup holds every live visit, and every view clusters the same either way."""
    assert sum(r[7] for r in rollup_rows(session)) == len(field["a"]) + len(field["b"]) + len(field["c"])
    assert_all_agree(session, world, field["t"])


def test_moving_a_visit_to_another_day_and_town_moves_it_in_the_rollup(session, world, pii, field):
    """A visit corrected to another day and place leaves its old day's rollup row and joins the new one."""
    moved = dict(field["a"][7], _status="updated", visited_at=field["t"] - 3 * DAY, **at(SURABAYA))
    push_visits(session, pii, world.agent_a, updated=[moved])
    assert_all_agree(session, world, field["t"])


def test_deleting_a_visit_removes_it_and_refreshes_its_neighbours(session, world, pii):
    """Deleting one of five stacked visits removes it from the rollup and un-flags the other four there."""
    t = local_morning()
    stacked = [visit(visited_at=t + i * HOUR, **at(KARAWANG, east_m=4 * i)) for i in range(5)]
    push_visits(session, pii, world.agent_a, created=stacked)
    admin = principal_of(world.admin)
    before = assert_paths_agree(session, admin, VisitFilters(), 10)
    assert [(c["count"], c["flagged"]) for c in before.values()] == [(5, 5)]

    push_visits(session, pii, world.agent_a, deleted=[stacked[0]["id"]])

    after = assert_paths_agree(session, admin, VisitFilters(), 10)
    assert [(c["count"], c["flagged"]) for c in after.values()] == [(4, 0)]
    assert_all_agree(session, world, t)


def test_a_late_visit_that_re_flags_stored_neighbours_updates_their_rollup_rows(session, world, pii):
    """Four visits on one spot are unflagged; a fifth arriving later for the same local day stacks all five,
    so the cell's flagged count goes from 0 to 5 (the late visit alone would make it 1). The late visit is
    at 01:00 WIB, the previous UTC day: the neighbours' UTC day is one the push did not write."""
    t = local_morning()
    first = [visit(visited_at=t + i * HOUR, **at(KARAWANG, east_m=4 * i)) for i in range(4)]
    push_visits(session, pii, world.agent_a, created=first)
    admin = principal_of(world.admin)
    before = assert_paths_agree(session, admin, VisitFilters(), 10)
    assert [(c["count"], c["flagged"]) for c in before.values()] == [(4, 0)]

    late = visit(visited_at=t - 8 * HOUR, **at(KARAWANG, north_m=3))
    assert late["visited_at"] // DAY != t // DAY
    push_visits(session, pii, world.agent_a, created=[late])

    assert all(flags_of(session, v["id"]) == {"stacked_location"} for v in first)
    after = assert_paths_agree(session, admin, VisitFilters(), 10)
    assert [(c["count"], c["flagged"]) for c in after.values()] == [(5, 5)]
    assert_all_agree(session, world, t)


def test_a_week_late_push_refreshes_days_far_from_its_own(session, world, pii, field):
    """A push carrying one old visit and one new one rewrites every day in between (the geo engine may
    re-flag any of them), and the result still matches a rebuild."""
    t = field["t"]
    old = visit(visited_at=t - 19 * DAY + 5 * HOUR, **at(SURABAYA))
    new = visit(visited_at=t + HOUR, **at(SURABAYA))
    push_visits(session, pii, world.agent_a, created=[old, new])
    assert_all_agree(session, world, t)


def test_zoomed_out_views_read_the_rollup(session, world, field):
    """With whole-day filters and no bbox the answer comes from ``visit_cells`` alone: emptied, it is empty.
    Zoomed in, or filtered by flag, the visits are read directly."""
    admin = principal_of(world.admin)
    session.execute(delete(VisitCell))
    assert visit_clusters.cluster_cells(session, principal=admin, filters=VisitFilters(), zoom=5) == []
    assert visit_clusters.cluster_cells(session, principal=admin, filters=VisitFilters(), zoom=11) != []
    flagged = VisitFilters(flag="impossible_travel")
    assert not visit_clusters.rollup_can_answer(flagged, 5)
    session.rollback()
