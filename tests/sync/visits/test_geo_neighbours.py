"""Late and out-of-order visits re-flag the agent's stored visits around them (docs/sync.md "The clock").

A visit pushed late lands between visits already stored and can change their impossible_travel and
stacked_location flags. Stored rows whose flags change are updated with the push's stamp so phones
pull the change; rows whose flags do not change keep their ``last_modified``.
"""

from __future__ import annotations

from sqlalchemy import event

from sync.protocol.pull import pull
from tests.factories import principal_of, visit

from .geo_support import HOUR, KARAWANG, SURABAYA, at, flags_of, local_morning, push_visits, stored


def modified(session, visit_id: str) -> int:
    return stored(session, visit_id)["last_modified"]


def test_late_visit_flags_its_stored_neighbour_and_bumps_it(session, world, pii):
    """Karawang 09:00 and Surabaya 20:00 are plausible; a late Karawang visit at 19:00 makes the leg to
    Surabaya impossible, so the stored Surabaya visit gains impossible_travel with the late push's stamp,
    while the untouched morning visit keeps its stamp."""
    t = local_morning()
    a = visit(visited_at=t, **at(KARAWANG))
    b = visit(visited_at=t + 11 * HOUR, **at(SURABAYA))
    push_visits(session, pii, world.agent_a, created=[a, b])
    assert "impossible_travel" not in flags_of(session, a["id"]) | flags_of(session, b["id"])
    before_a, before_b = modified(session, a["id"]), modified(session, b["id"])

    late = visit(visited_at=t + 10 * HOUR, **at(KARAWANG, east_m=200))
    outcome = push_visits(session, pii, world.agent_a, created=[late])

    assert "impossible_travel" in outcome.results["visits"][late["id"]]["flags"]
    assert "impossible_travel" in flags_of(session, b["id"])
    assert modified(session, b["id"]) == outcome.timestamp > before_b
    assert "impossible_travel" not in flags_of(session, a["id"])
    assert modified(session, a["id"]) == before_a


def test_late_visit_clears_a_neighbours_flag_when_it_reveals_the_outlier(session, world, pii):
    """Karawang 09:00 then Surabaya 10:00 flags both; when Karawang 11:00 arrives the Surabaya visit is
    the lone outlier, so the 09:00 visit loses impossible_travel (bumped) and Surabaya keeps it."""
    t = local_morning()
    a, x = visit(visited_at=t, **at(KARAWANG)), visit(visited_at=t + HOUR, **at(SURABAYA))
    push_visits(session, pii, world.agent_a, created=[a, x])
    assert "impossible_travel" in flags_of(session, a["id"]) & flags_of(session, x["id"])
    before_x = modified(session, x["id"])

    b = visit(visited_at=t + 2 * HOUR, **at(KARAWANG, east_m=300))
    outcome = push_visits(session, pii, world.agent_a, created=[b])

    assert "impossible_travel" not in flags_of(session, a["id"])
    assert modified(session, a["id"]) == outcome.timestamp
    assert "impossible_travel" in flags_of(session, x["id"])
    assert modified(session, x["id"]) == before_x  # same flags: nothing new for phones
    assert "consistent" in stored(session, x["id"])["flag_reasons"]  # the server-side reason did change
    assert outcome.results["visits"][b["id"]]["flags"] == ""


def test_late_fifth_visit_stacks_the_four_stored_ones(session, world, pii):
    """Four visits on one spot are fine; a fifth arriving later for the same local day stacks all five,
    and the four stored rows are bumped."""
    t = local_morning()
    first = [visit(visited_at=t + i * HOUR, **at(KARAWANG, east_m=4 * i)) for i in range(4)]
    push_visits(session, pii, world.agent_a, created=first)
    assert all(flags_of(session, v["id"]) == set() for v in first)

    late = visit(visited_at=t - HOUR, **at(KARAWANG, north_m=3))
    outcome = push_visits(session, pii, world.agent_a, created=[late])

    assert outcome.results["visits"][late["id"]]["flags"] == "stacked_location"
    for v in first:
        assert flags_of(session, v["id"]) == {"stacked_location"}
        assert modified(session, v["id"]) == outcome.timestamp


def test_deleting_a_visit_unstacks_the_others(session, world, pii):
    """Deleting one of five stacked visits brings the others below the threshold: their flag goes, bumped."""
    t = local_morning()
    visits = [visit(visited_at=t + i * HOUR, **at(KARAWANG, east_m=4 * i)) for i in range(5)]
    push_visits(session, pii, world.agent_a, created=visits)
    assert all(flags_of(session, v["id"]) == {"stacked_location"} for v in visits)

    outcome = push_visits(session, pii, world.agent_a, deleted=[visits[0]["id"]])

    for v in visits[1:]:
        assert flags_of(session, v["id"]) == set()
        assert modified(session, v["id"]) == outcome.timestamp


def test_moving_a_visit_in_time_re_flags_its_old_and_new_neighbours(session, world, pii):
    """A visit corrected to another time leaves its old neighbours (their flag goes) and joins new ones."""
    t = local_morning()
    a = visit(visited_at=t, **at(KARAWANG))
    x = visit(visited_at=t + HOUR, **at(SURABAYA))
    far_later = visit(visited_at=t + 30 * HOUR, **at(SURABAYA, east_m=200))
    push_visits(session, pii, world.agent_a, created=[a, x, far_later])
    assert "impossible_travel" in flags_of(session, a["id"])

    moved = dict(x, _status="updated", visited_at=t + 29 * HOUR)  # the phone's clock was wrong: next day
    outcome = push_visits(session, pii, world.agent_a, updated=[moved])

    assert "impossible_travel" not in flags_of(session, a["id"])
    assert modified(session, a["id"]) == outcome.timestamp
    assert "impossible_travel" not in flags_of(session, x["id"])


def test_a_re_flagged_neighbour_reaches_the_phone_on_its_next_pull(session, world, pii):
    """The neighbour's new flags come back in the next pull, as an update of that visit."""
    t = local_morning()
    a, b = visit(visited_at=t, **at(KARAWANG)), visit(visited_at=t + 11 * HOUR, **at(SURABAYA))
    first = push_visits(session, pii, world.agent_a, created=[a, b])
    late = visit(visited_at=t + 10 * HOUR, **at(KARAWANG))
    push_visits(session, pii, world.agent_a, created=[late])

    pulled = pull(session, principal=principal_of(world.agent_a), last_pulled_at=first.timestamp, pii=pii)
    session.rollback()
    changed = {r["id"]: r for part in ("created", "updated") for r in pulled["changes"]["visits"][part]}
    assert "impossible_travel" in changed[b["id"]]["flags"]
    assert a["id"] not in changed
    assert "flag_reasons" not in changed[b["id"]] and "location_match" not in changed[b["id"]]


def test_other_agents_visits_are_never_touched(session, world, pii):
    """A push re-flags only the pushing agent's visits."""
    t = local_morning()
    others = [visit(visited_at=t + i * HOUR, **at(KARAWANG, east_m=4 * i)) for i in range(4)]
    push_visits(session, pii, world.agent_b, created=others)
    stamps = {v["id"]: modified(session, v["id"]) for v in others}
    push_visits(session, pii, world.agent_a, created=[visit(visited_at=t - HOUR, **at(KARAWANG))])
    assert {v["id"]: modified(session, v["id"]) for v in others} == stamps
    assert all(flags_of(session, v["id"]) == set() for v in others)


def test_statements_per_push_do_not_grow_with_the_number_of_visits(session, world, pii, engine):
    """Enrichment and re-flagging are set-based: a push of 60 visits runs as many statements as one of 3."""

    def count_statements(n: int) -> int:
        t = local_morning(days_ago=3 + n)  # a fresh stretch of time for each push
        visits = [visit(visited_at=t + i * 60_000, **at(KARAWANG, east_m=50 * i)) for i in range(n)]
        seen: list[str] = []

        def record(conn, cursor, statement, parameters, context, executemany):
            seen.append(statement)

        event.listen(engine, "before_cursor_execute", record)
        try:
            push_visits(session, pii, world.agent_a, created=visits)
        finally:
            event.remove(engine, "before_cursor_execute", record)
        return len(seen)

    assert count_statements(3) == count_statements(60)
