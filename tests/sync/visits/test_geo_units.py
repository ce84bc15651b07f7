"""The pure pieces of ``sync.geo``: zone mapping, distances, settings, sequence rules, lazy loading."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from geopy.distance import geodesic

from sync.geo import boundaries as boundaries_module
from sync.geo.distance import geodesic_km, in_world_range
from sync.geo.timezones import PROVINCE_ZONES, ZONES, choose_zone
from sync.visits.flags import dump_reasons, join_flags, load_reasons
from sync.visits.sequence import Track, sequence_reasons
from sync.visits.settings import GeoSettings


@pytest.mark.parametrize(
    ("found", "province", "zone"),
    [
        ("Asia/Pontianak", None, "Asia/Pontianak"),  # timezonefinder's own answer wins when it is one of ours
        ("Etc/GMT-7", "61", "Asia/Pontianak"),  # at sea off West Kalimantan: the matched province decides
        ("Etc/GMT-7", None, "Asia/Jakarta"),  # at sea, no province: by UTC offset
        ("Etc/GMT-8", None, "Asia/Makassar"),
        ("Etc/GMT-9", None, "Asia/Jayapura"),
        ("Asia/Kuching", "61", "Asia/Pontianak"),  # a neighbour's zone at the border: the province decides
        ("Asia/Dili", None, "Asia/Jayapura"),  # Timor-Leste, UTC+9
        ("Asia/Singapore", None, "Asia/Makassar"),
        ("Europe/Paris", None, None),  # no Indonesian zone has that offset
        ("Etc/GMT-10", None, None),
        (None, "73", "Asia/Makassar"),
        (None, None, None),
    ],
)
def test_only_the_four_indonesian_zones_are_chosen(found, province, zone):
    """timezonefinder's answer is mapped to Asia/Jakarta, Pontianak, Makassar or Jayapura, or nothing."""
    assert choose_zone(found, province) == zone


def test_every_province_has_its_domain_zone():
    """All 38 provinces of the boundary data map to a zone, per docs/domain.md (time zones)."""
    assert len(PROVINCE_ZONES) == 38 and set(PROVINCE_ZONES.values()) == set(ZONES)
    assert PROVINCE_ZONES["62"] == "Asia/Pontianak" and PROVINCE_ZONES["65"] == "Asia/Makassar"
    assert PROVINCE_ZONES["96"] == "Asia/Jayapura" and PROVINCE_ZONES["21"] == "Asia/Jakarta"


def test_vectorised_geodesic_agrees_with_geopy():
    """The vectorised distance equals geopy's geodesic to the millimetre, antipodes included."""
    rng = np.random.default_rng(5)
    lat = np.concatenate([rng.uniform(-11, 6, 200), rng.uniform(-90, 90, 50), [6.3053, -6.3053]])
    lon = np.concatenate([rng.uniform(95, 141.1, 200), rng.uniform(-180, 180, 50), [-72.6973, 107.3027]])
    origin = (-6.3053, 107.3027)
    expected = np.array([geodesic(origin, (a, b)).km for a, b in zip(lat, lon, strict=True)])
    assert np.max(np.abs(geodesic_km(lat, lon, origin) - expected)) < 1e-6


def test_out_of_range_coordinates_are_not_valid():
    """NaN, infinities and values geopy would silently wrap are rejected before any distance."""
    lat = np.array([0.0, np.nan, 95.0, 0.0, np.inf])
    lon = np.array([0.0, 0.0, 0.0, 200.0, 0.0])
    assert in_world_range(lat, lon).tolist() == [True, False, False, False, False]


def test_settings_read_from_a_mapping():
    """Thresholds come from ``JANGKAU_GEO_*`` entries; absent ones keep their defaults."""
    settings = GeoSettings.from_mapping({"JANGKAU_GEO_MAX_SPEED_KMH": "80", "JANGKAU_GEO_STACK_MIN_VISITS": "4"})
    assert (settings.max_speed_kmh, settings.stack_min_visits, settings.low_accuracy_m) == (80.0, 4, 100.0)
    with pytest.raises(ValueError):
        GeoSettings.from_mapping({"JANGKAU_GEO_MAX_SPEED_KMH": "fast"})


def test_reach_covers_the_longest_possible_leg():
    """A changed visit can move flags two legs away; no leg inside the box lasting longer than the
    travel window can be too fast."""
    s = GeoSettings()
    assert s.box_span_km / (s.travel_window_ms / 3_600_000) <= s.max_speed_kmh
    assert s.reach_ms >= 2 * s.travel_window_ms


def test_flags_are_stored_in_contract_order():
    """The comma list follows docs/api.md's order, whatever order the rules ran in; no flag is NULL."""
    assert join_flags(["stacked_location", "low_accuracy"]) == "low_accuracy,stacked_location"
    assert join_flags([]) is None
    assert load_reasons(dump_reasons({"clock_skew": "x", "outside_indonesia": "y"})) == {
        "outside_indonesia": "y",
        "clock_skew": "x",
    }
    assert load_reasons("not json") == {}


def test_sequence_rules_sort_by_time_not_by_arrival():
    """The track is ordered by visited_at whatever order it is given in."""
    hour = 3_600_000
    track = Track(
        ids=["late", "a", "b"],
        t=np.array([2 * hour, 0, hour], dtype=np.int64),
        lat=np.array([-6.32, -6.32, -7.26]),
        lon=np.array([107.34, 107.34, 112.75]),
        day=np.zeros(3, dtype=np.int64),
    )
    flagged = ["impossible_travel" in r for r in sequence_reasons(track, GeoSettings())]
    assert flagged == [False, False, True]  # b (Surabaya between two Karawang visits) is the outlier


def test_boundaries_load_once_across_threads(monkeypatch):
    """Concurrent first lookups load the polygons exactly once and share them."""
    monkeypatch.setattr(boundaries_module, "_loaded", None)
    loads = []
    real_load = boundaries_module.Boundaries.load

    def counting_load(*args, **kwargs):
        loads.append(1)
        return real_load(*args, **kwargs)

    monkeypatch.setattr(boundaries_module.Boundaries, "load", counting_load)
    seen = []
    threads = [threading.Thread(target=lambda: seen.append(boundaries_module.boundaries())) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(loads) == 1 and len({id(b) for b in seen}) == 1
