"""Enrichment of pushed visits (docs/sync.md (tables) visits): province, regency, time zone, branch distance.

Engine-level: visits go through ``sync.protocol.push.push`` and are read back from the database.
"""

from __future__ import annotations

import json
import math

import pytest
from geopy.distance import geodesic

from tests.factories import visit

from .geo_support import KARAWANG, push_visits, stored

KNOWN_POINTS = [
    # name, (lat, lon), province, regency, zone
    ("Karawang", (-6.3227, 107.3376), "32", "32.15", "Asia/Jakarta"),
    ("Muara Angke", (-6.1067, 106.7749), "31", "31.72", "Asia/Jakarta"),
    ("Surabaya", (-7.2575, 112.7521), "35", "35.78", "Asia/Jakarta"),
    ("Denpasar", (-8.6705, 115.2126), "51", "51.71", "Asia/Makassar"),
    ("Makassar", (-5.1477, 119.4327), "73", "73.71", "Asia/Makassar"),
    ("Jayapura", (-2.5337, 140.7181), "91", "91.71", "Asia/Jayapura"),
    ("Natuna", (3.9434, 108.3871), "21", "21.03", "Asia/Jakarta"),
    ("Pontianak", (-0.0263, 109.3425), "61", "61.71", "Asia/Pontianak"),
]


@pytest.mark.parametrize(
    ("name", "point", "province", "regency", "zone"), KNOWN_POINTS, ids=[p[0] for p in KNOWN_POINTS]
)
def test_known_points_land_in_their_province_regency_and_zone(
    session, world, pii, name, point, province, regency, zone
):
    """A visit at a known town gets that town's Kemendagri province and regency codes, names and zone."""
    v = visit(latitude=point[0], longitude=point[1])
    outcome = push_visits(session, pii, world.agent_a, created=[v])
    row = stored(session, v["id"])
    assert (row["province_code"], row["regency_code"], row["timezone"]) == (province, regency, zone)
    assert row["province"] and row["regency"]  # names come with the codes
    assert row["location_match"] == "inside" and row["location_match_km"] == 0
    assert "outside_indonesia" not in (row["flags"] or "")
    assert outcome.results["visits"][v["id"]]["status"] == "accepted"


def test_province_and_regency_names_are_stored(session, world, pii):
    """The names stored beside the codes are the official ones of the boundary data."""
    v = visit(latitude=KARAWANG[0], longitude=KARAWANG[1])
    push_visits(session, pii, world.agent_a, created=[v])
    row = stored(session, v["id"])
    assert (row["province"], row["regency"]) == ("Jawa Barat", "Kabupaten Karawang")


def test_offshore_fishing_village_is_matched_by_the_nearest_polygon(session, world, pii):
    """A village just off the simplified coastline falls back to the nearest regency within 2 km,
    marked approximate in the server-only match columns and not flagged outside Indonesia."""
    v = visit(latitude=-6.093, longitude=106.945)
    outcome = push_visits(session, pii, world.agent_a, created=[v])
    row = stored(session, v["id"])
    assert (row["province_code"], row["regency_code"], row["timezone"]) == ("31", "31.72", "Asia/Jakarta")
    assert row["location_match"] == "nearest" and 0 < row["location_match_km"] < 2
    assert "outside_indonesia" not in outcome.results["visits"][v["id"]]["flags"]


def test_boat_four_km_out_matches_no_regency(session, world, pii):
    """A boat 4 km out in Jakarta Bay matches nothing: no province or regency, flagged outside_indonesia,
    while its time zone (territorial waters) is still known."""
    v = visit(latitude=-6.05, longitude=106.88)
    outcome = push_visits(session, pii, world.agent_a, created=[v])
    row = stored(session, v["id"])
    assert row["province_code"] is row["regency_code"] is row["location_match"] is None
    assert row["timezone"] == "Asia/Jakarta"
    assert "outside_indonesia" in outcome.results["visits"][v["id"]]["flags"].split(",")


def test_distance_from_branch_is_the_geodesic_distance(session, world, pii):
    """distance_from_branch_km is the WGS-84 geodesic distance to the agent's branch office (geopy's)."""
    v = visit(latitude=-7.2575, longitude=112.7521)
    push_visits(session, pii, world.agent_a, created=[v])
    branch = (world.karawang.latitude, world.karawang.longitude)
    expected = geodesic(branch, (-7.2575, 112.7521)).km
    assert stored(session, v["id"])["distance_from_branch_km"] == pytest.approx(expected, abs=0.001)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"latitude": float("nan")}, "latitude"),
        ({"latitude": 95}, "latitude"),
        ({"longitude": 200}, "longitude"),
        ({"latitude": None}, "latitude"),
        ({"longitude": None}, "longitude"),
    ],
    ids=["nan", "lat-95", "lon-200", "missing-lat", "missing-lon"],
)
def test_bad_coordinates_stay_validation_errors_without_enrichment(session, world, pii, overrides, field):
    """Bad coordinates keep their validation error and get no province, zone, distance or
    outside_indonesia flag: nothing downstream trusts a position that is not one."""
    v = visit(**overrides)
    outcome = push_visits(session, pii, world.agent_a, created=[v])
    result = outcome.results["visits"][v["id"]]
    assert result["status"] == "needs_correction" and field in result["errors"]
    row = stored(session, v["id"])
    assert row["latitude"] is None and row["longitude"] is None
    enrichment = ("province_code", "regency_code", "province", "regency", "timezone", "distance_from_branch_km")
    assert all(row[name] is None for name in enrichment)
    assert "outside_indonesia" not in result["flags"]


def test_server_columns_sent_by_the_phone_are_ignored(session, world, pii):
    """A phone's own province, zone, distance or flags never reach the row: the server computes them."""
    v = visit(
        province_code="99",
        regency_code="99.99",
        timezone="Europe/Paris",
        distance_from_branch_km=1.0,
        flags="mock_location",
    )
    push_visits(session, pii, world.agent_a, created=[v])
    row = stored(session, v["id"])
    assert (row["province_code"], row["regency_code"], row["timezone"]) == ("32", "32.15", "Asia/Jakarta")
    assert row["flags"] is None and not math.isclose(row["distance_from_branch_km"], 1.0)


def test_every_visit_result_carries_its_flags(session, world, pii):
    """Each visit's push result has ``flags``: the comma list, empty when there is none."""
    clean, odd = visit(), visit(accuracy_m=250.0, is_mock_location=True)
    outcome = push_visits(session, pii, world.agent_a, created=[clean, odd])
    assert outcome.results["visits"][clean["id"]]["flags"] == ""
    assert outcome.results["visits"][odd["id"]]["flags"] == "low_accuracy,mock_location"
    reasons = json.loads(stored(session, odd["id"])["flag_reasons"])
    assert set(reasons) == {"low_accuracy", "mock_location"} and "250 m" in reasons["low_accuracy"]


def test_an_update_is_enriched_again(session, world, pii):
    """Moving a visit by an update recomputes its region, zone and distance."""
    v = visit()
    push_visits(session, pii, world.agent_a, created=[v])
    moved = dict(v, _status="updated", latitude=-8.6705, longitude=115.2126)
    push_visits(session, pii, world.agent_a, updated=[moved])
    row = stored(session, v["id"])
    assert (row["regency_code"], row["timezone"]) == ("51.71", "Asia/Makassar")
    assert "far_from_branch" in row["flags"]


@pytest.mark.parametrize("value", [1e30, -5, 2**53], ids=["1e30", "negative", "2^53"])
def test_impossible_visit_times_are_validation_errors(session, world, pii, value):
    """A visit time that is not epoch milliseconds a phone could hold is a validation error and is
    cleared; the visit is still stored and enriched from its coordinates."""
    v = visit(visited_at=value)
    outcome = push_visits(session, pii, world.agent_a, created=[v])
    result = outcome.results["visits"][v["id"]]
    assert result["status"] == "needs_correction" and "visited_at" in result["errors"]
    row = stored(session, v["id"])
    assert row["visited_at"] is None and row["regency_code"] == "32.15"


def test_a_time_in_seconds_is_stored_and_flagged_as_clock_skew(session, world, pii):
    """A phone that sends seconds instead of milliseconds (a 1970 date) keeps its value, flagged clock_skew."""
    v = visit(visited_at=1_790_000_000)
    outcome = push_visits(session, pii, world.agent_a, created=[v])
    assert outcome.results["visits"][v["id"]] == {"status": "accepted", "flags": "clock_skew"}
