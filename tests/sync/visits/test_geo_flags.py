"""Plausibility flags on visits (docs/sync.md (tables) ``visits.flags``, docs/domain.md (regions)): for each flag, one
push that must raise it and one that must not. Thresholds are the defaults of
``sync.visits.settings.GeoSettings`` unless a test pushes with its own ``EngineSettings``.
"""

from __future__ import annotations

import json

from sqlalchemy import update

from sync.models import Visit
from sync.protocol.clock import now_ms
from sync.settings import EngineSettings
from sync.visits.settings import GeoSettings
from tests.factories import visit

from .geo_support import (
    BANDUNG,
    DAY,
    HOUR,
    JAKARTA,
    KARAWANG,
    SURABAYA,
    at,
    flags_of,
    local_morning,
    push_visits,
    stored,
)


def reasons_of(session, visit_id: str) -> dict:
    return json.loads(stored(session, visit_id)["flag_reasons"] or "{}")


# outside_indonesia


def test_outside_indonesia_for_a_point_outside_the_box(session, world, pii):
    """A point outside lat -11..6 / lon 95..141.1 (southern Thailand) is outside Indonesia; its zone is
    still one of the four Indonesian zones, mapped by UTC offset."""
    v = visit(latitude=7.0, longitude=100.5)
    push_visits(session, pii, world.agent_a, created=[v])
    assert "outside_indonesia" in flags_of(session, v["id"])
    assert stored(session, v["id"])["timezone"] == "Asia/Jakarta"
    assert "lintang" in reasons_of(session, v["id"])["outside_indonesia"]


def test_outside_indonesia_for_a_neighbour_country_inside_the_box(session, world, pii):
    """Singapore lies inside the box but more than 2 km from any Indonesian regency."""
    v = visit(latitude=1.2903, longitude=103.8519)
    push_visits(session, pii, world.agent_a, created=[v])
    assert "outside_indonesia" in flags_of(session, v["id"])
    assert stored(session, v["id"])["regency_code"] is None


def test_not_outside_indonesia_on_land_or_just_offshore(session, world, pii):
    """A town and a small island just off its simplified coastline (Pulau Pramuka) are in Indonesia."""
    town, island = visit(), visit(latitude=-5.7453, longitude=106.6136)
    push_visits(session, pii, world.agent_a, created=[town, island])
    assert "outside_indonesia" not in flags_of(session, town["id"]) | flags_of(session, island["id"])
    assert stored(session, island["id"])["regency_code"] == "31.01"


# low_accuracy


def test_low_accuracy_above_100_m(session, world, pii):
    """A GPS fix worse than 100 m is flagged low_accuracy."""
    v = visit(accuracy_m=100.5)
    push_visits(session, pii, world.agent_a, created=[v])
    assert flags_of(session, v["id"]) == {"low_accuracy"}


def test_no_low_accuracy_at_100_m(session, world, pii):
    """Exactly 100 m is still acceptable."""
    v = visit(accuracy_m=100.0)
    push_visits(session, pii, world.agent_a, created=[v])
    assert flags_of(session, v["id"]) == set()


# mock_location


def test_mock_location_from_the_phone_flag(session, world, pii):
    """The phone's own mock-location flag raises mock_location."""
    v = visit(is_mock_location=True)
    push_visits(session, pii, world.agent_a, created=[v])
    assert flags_of(session, v["id"]) == {"mock_location"}


def test_mock_location_from_an_accuracy_of_exactly_zero(session, world, pii):
    """An accuracy of exactly 0 m (real GPS never reports it) raises mock_location."""
    v = visit(accuracy_m=0)
    push_visits(session, pii, world.agent_a, created=[v])
    assert flags_of(session, v["id"]) == {"mock_location"}
    assert "0 m" in reasons_of(session, v["id"])["mock_location"]


def test_no_mock_location_for_an_ordinary_fix(session, world, pii):
    """A real fix (mock flag false, accuracy 0.5 m) is not mock_location."""
    v = visit(accuracy_m=0.5, is_mock_location=False)
    push_visits(session, pii, world.agent_a, created=[v])
    assert flags_of(session, v["id"]) == set()


# impossible_travel


def test_impossible_travel_between_consecutive_visits(session, world, pii):
    """Karawang then Surabaya (about 600 km) one hour later is faster than 120 km/h: both ends flagged,
    the reason naming the other visit and the speed."""
    t = local_morning()
    a = visit(visited_at=t, **at(KARAWANG))
    b = visit(visited_at=t + HOUR, **at(SURABAYA))
    push_visits(session, pii, world.agent_a, created=[a, b])
    assert "impossible_travel" in flags_of(session, a["id"]) & flags_of(session, b["id"])
    reason = reasons_of(session, b["id"])["impossible_travel"]
    assert a["id"] in reason and "km/h" in reason


def test_no_impossible_travel_at_road_speed(session, world, pii):
    """Karawang then Jakarta (about 60 km) an hour later is plausible."""
    t = local_morning()
    a, b = visit(visited_at=t, **at(KARAWANG)), visit(visited_at=t + HOUR, **at(JAKARTA))
    push_visits(session, pii, world.agent_a, created=[a, b])
    assert "impossible_travel" not in flags_of(session, a["id"]) | flags_of(session, b["id"])


def test_no_impossible_travel_within_the_small_distance_allowance(session, world, pii):
    """Two visits 600 m apart at the same minute are GPS noise or neighbours, not travel."""
    t = local_morning()
    a, b = visit(visited_at=t, **at(KARAWANG)), visit(visited_at=t, **at(KARAWANG, north_m=600))
    push_visits(session, pii, world.agent_a, created=[a, b])
    assert "impossible_travel" not in flags_of(session, a["id"]) | flags_of(session, b["id"])


def test_impossible_travel_blames_only_a_lone_outlier(session, world, pii):
    """Karawang, Surabaya, Karawang an hour apart: the Surabaya visit is the outlier and alone is flagged,
    because the trip that skips it is plausible."""
    t = local_morning()
    a = visit(visited_at=t, **at(KARAWANG))
    x = visit(visited_at=t + HOUR, **at(SURABAYA))
    b = visit(visited_at=t + 2 * HOUR, **at(KARAWANG, east_m=300))
    push_visits(session, pii, world.agent_a, created=[a, x, b])
    assert [("impossible_travel" in flags_of(session, v["id"])) for v in (a, x, b)] == [False, True, False]


def test_impossible_travel_ignores_other_agents(session, world, pii):
    """Two agents far apart at the same time are two people, not one impossible trip."""
    t = local_morning()
    a, b = visit(visited_at=t, **at(KARAWANG)), visit(visited_at=t + HOUR, **at(SURABAYA))
    push_visits(session, pii, world.agent_a, created=[a])
    push_visits(session, pii, world.agent_b, created=[b])
    assert "impossible_travel" not in flags_of(session, a["id"]) | flags_of(session, b["id"])


def test_impossible_travel_speed_is_configurable(session, world, pii):
    """With a 40 km/h limit, Karawang to Jakarta in an hour becomes impossible."""
    slow = EngineSettings(geo=GeoSettings(max_speed_kmh=40))
    t = local_morning()
    a, b = visit(visited_at=t, **at(KARAWANG)), visit(visited_at=t + HOUR, **at(JAKARTA))
    push_visits(session, pii, world.agent_a, created=[a, b], settings=slow)
    assert "impossible_travel" in flags_of(session, a["id"]) & flags_of(session, b["id"])


# clock_skew


def test_clock_skew_for_a_visit_in_the_future(session, world, pii):
    """A visit two hours ahead of the server clock has clock_skew."""
    v = visit(visited_at=now_ms() + 2 * HOUR)
    push_visits(session, pii, world.agent_a, created=[v])
    assert flags_of(session, v["id"]) == {"clock_skew"}
    assert "ahead of the server clock" in reasons_of(session, v["id"])["clock_skew"]


def test_clock_skew_for_a_visit_far_older_than_its_sync(session, world, pii):
    """A visit 40 days older than the push that brings it has clock_skew."""
    v = visit(visited_at=now_ms() - 40 * DAY)
    push_visits(session, pii, world.agent_a, created=[v])
    assert flags_of(session, v["id"]) == {"clock_skew"}


def test_no_clock_skew_within_tolerance(session, world, pii):
    """Five minutes ahead (phone clocks drift) and 29 days old (a long offline spell) are acceptable."""
    ahead, old = visit(visited_at=now_ms() + 5 * 60_000), visit(visited_at=now_ms() - 29 * DAY)
    push_visits(session, pii, world.agent_a, created=[ahead, old])
    assert flags_of(session, ahead["id"]) == set() and flags_of(session, old["id"]) == set()


def test_no_clock_skew_when_an_old_visit_is_edited_later(session, world, pii):
    """Age is measured against the visit's first arrival: editing a visit that arrived on time, weeks
    later, does not make it skewed."""
    v = visit(visited_at=now_ms() - 40 * DAY)
    push_visits(session, pii, world.agent_a, created=[v])
    # Pretend it arrived the day after the visit, as a phone syncing normally would have done.
    session.execute(update(Visit).where(Visit.id == v["id"]).values(server_created_at=v["visited_at"] + DAY))
    session.commit()
    push_visits(session, pii, world.agent_a, updated=[dict(v, _status="updated", notes="dikoreksi")])
    assert "clock_skew" not in flags_of(session, v["id"])


# far_from_branch


def test_far_from_branch_beyond_150_km(session, world, pii):
    """A Karawang agent's visit in Surabaya (about 600 km away) is far_from_branch."""
    v = visit(**at(SURABAYA))
    push_visits(session, pii, world.agent_a, created=[v])
    assert flags_of(session, v["id"]) == {"far_from_branch"}
    assert stored(session, v["id"])["distance_from_branch_km"] > 500


def test_not_far_from_branch_within_150_km(session, world, pii):
    """Bandung, about 75 km from the Karawang branch, is within reach."""
    v = visit(**at(BANDUNG))
    push_visits(session, pii, world.agent_a, created=[v])
    assert flags_of(session, v["id"]) == set()
    assert 50 < stored(session, v["id"])["distance_from_branch_km"] < 100


def test_far_from_branch_distance_is_configurable(session, world, pii):
    """With a 50 km limit the same Bandung visit is far_from_branch."""
    near = EngineSettings(geo=GeoSettings(far_from_branch_km=50))
    v = visit(**at(BANDUNG))
    push_visits(session, pii, world.agent_a, created=[v], settings=near)
    assert flags_of(session, v["id"]) == {"far_from_branch"}


# stacked_location


def stack(t0: int, count: int, *, spread_m: float = 5.0, step_ms: int = HOUR // 2) -> list[dict]:
    """``count`` visits around one house, ``step_ms`` apart, each ``spread_m`` further east."""
    return [visit(visited_at=t0 + i * step_ms, **at(KARAWANG, east_m=i * spread_m)) for i in range(count)]


def test_stacked_location_for_five_visits_on_one_spot_in_a_day(session, world, pii):
    """Five different visits within 30 m of each other on one local day are all stacked_location."""
    visits = stack(local_morning(), 5)
    push_visits(session, pii, world.agent_a, created=visits)
    assert all(flags_of(session, v["id"]) == {"stacked_location"} for v in visits)
    assert "5 visits within 30 m" in reasons_of(session, visits[0]["id"])["stacked_location"]


def test_no_stacked_location_for_four_visits(session, world, pii):
    """Four visits on one spot stay below the threshold of five."""
    visits = stack(local_morning(), 4)
    push_visits(session, pii, world.agent_a, created=visits)
    assert all(flags_of(session, v["id"]) == set() for v in visits)


def test_no_stacked_location_across_days(session, world, pii):
    """Five visits on one spot on five different local days are a regular customer, not a stack."""
    visits = stack(local_morning(days_ago=6), 5, step_ms=DAY)
    push_visits(session, pii, world.agent_a, created=visits)
    assert all("stacked_location" not in flags_of(session, v["id"]) for v in visits)


def test_no_stacked_location_when_visits_are_spread_out(session, world, pii):
    """Five visits 100 m apart along a street are distinct houses."""
    visits = stack(local_morning(), 5, spread_m=100)
    push_visits(session, pii, world.agent_a, created=visits)
    assert all(flags_of(session, v["id"]) == set() for v in visits)
