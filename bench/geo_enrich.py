"""Benchmark: in-push enrichment and flagging of visits (``sync.geo``), target 10,000 visits < 1 s.

Run: ``.venv/bin/python bench/geo_enrich.py [--push]``. Points are realistic: most on land around the
514 regencies, some just offshore (fallback), a few at sea or abroad. Prints one table row per step:
n, seconds (best of 3 warm runs; the cold row includes loading the polygons and timezonefinder), visits/s.
``--push`` adds a whole ``sync.protocol.push.push`` of 5,000 visits (the per-push maximum) into a temporary SQLite
database, writes included.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from geopy.distance import geodesic  # noqa: E402

from sync.geo.boundaries import Boundaries  # noqa: E402
from sync.visits.enrich import enrich_visits  # noqa: E402
from sync.visits.neighbours import _track  # noqa: E402
from sync.visits.sequence import sequence_reasons  # noqa: E402
from sync.visits.settings import GeoSettings  # noqa: E402

BRANCH = (-6.3053, 107.3027)
NOW = 1_790_000_000_000
SETTINGS = GeoSettings()


_ANCHORS: list[np.ndarray] = []


def sample_rows(n: int, seed: int = 7) -> list[dict]:
    """Visit rows as ``apply_visits`` builds them: 90 % on land, 8 % near the coast, 2 % at sea/abroad."""
    rng = np.random.default_rng(seed)
    if not _ANCHORS:  # a private copy of the polygons, so the timed code still loads its own
        _ANCHORS.append(shapely.get_coordinates(shapely.point_on_surface(Boundaries.load().geometries)))
    anchors = _ANCHORS[0]
    picks = anchors[rng.integers(0, len(anchors), n)]
    spread = np.where(rng.random(n) < 0.9, 0.01, 0.04)[:, None]
    lonlat = picks + rng.normal(0, 1, (n, 2)) * spread
    abroad = rng.random(n) < 0.02
    lonlat[abroad] = np.column_stack([rng.uniform(90, 145, abroad.sum()), rng.uniform(-15, 10, abroad.sum())])
    t = NOW - 30 * 86_400_000 + np.sort(rng.integers(0, 29 * 86_400_000, n))
    return [
        {
            "id": f"v{i:06d}",
            "latitude": float(lonlat[i, 1]),
            "longitude": float(lonlat[i, 0]),
            "accuracy_m": float(rng.choice([0.0, 8.0, 15.0, 40.0, 150.0])),
            "is_mock_location": bool(rng.random() < 0.01),
            "visited_at": int(t[i]),
        }
        for i in range(n)
    ]


def enrich(rows: list[dict]) -> None:
    columns, _ = enrich_visits(rows, branch_location=BRANCH, received_at=[NOW] * len(rows), now=NOW, settings=SETTINGS)
    for row, values in zip(rows, columns, strict=True):
        row.update(values)


def enrich_and_flag(rows: list[dict]) -> None:
    """What a push does in memory: enrichment, then the sequence rules over the same visits."""
    enrich(rows)
    sequence_reasons(_track([r for r in rows if r["timezone"]]), SETTINGS)


def best_of(fn, make, runs: int = 3) -> float:
    best = float("inf")
    for _ in range(runs):
        data = make()
        start = time.perf_counter()
        fn(data)
        best = min(best, time.perf_counter() - start)
    return best


def geopy_loop(rows: list[dict]) -> None:
    for row in rows:
        _ = geodesic(BRANCH, (row["latitude"], row["longitude"])).km


def bench_push(n: int) -> float:
    """A real push of ``n`` new visits through ``sync.protocol.push.push`` into a fresh SQLite file."""
    from sqlalchemy.orm import Session

    from sync.accounts.principal import Principal
    from sync.db import create_schema, make_engine
    from sync.models import Branch, User
    from sync.pii import PiiProtector
    from sync.protocol.push import push

    keys = PiiProtector.generate_config()
    pii = PiiProtector.from_config(keys["JANGKAU_PII_KEYS"], keys["JANGKAU_PII_INDEX_KEY"])
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{tmp}/bench.db")
        create_schema(engine)
        with Session(engine) as session, session.begin():
            session.add(
                Branch(id="b1", code="KCU-1", name="Karawang", kind="KCU", latitude=BRANCH[0], longitude=BRANCH[1])
            )
            session.add(User(id="u1", username="agen", password_hash="x", role="agent", branch_id="b1", created_at=NOW))
        principal = Principal(user_id="u1", username="agen", role="agent", branch_id="b1", device_id="d1")
        empty = {"created": [], "updated": [], "deleted": []}
        rows = sample_rows(n, seed=11)
        records = [
            {**r, "_status": "created", "_changed": "", "outcome": "interested", "visited_at": r["visited_at"]}
            for r in rows
        ]
        body = {"visits": {**empty, "created": records}, "enrollments": empty, "follow_ups": empty}
        with Session(engine) as session, session.begin():
            start = time.perf_counter()
            push(session, principal=principal, changes=body, last_pulled_at=0, pii=pii)
            elapsed = time.perf_counter() - start
        engine.dispose()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--push", action="store_true", help="also time a 5,000-visit push into SQLite")
    args = parser.parse_args()

    results: list[tuple[str, int, float]] = []
    first = sample_rows(100)
    start = time.perf_counter()
    enrich(first)  # first use: loads boundaries and timezonefinder
    results.append(("enrich, cold (loads polygons + zones)", 100, time.perf_counter() - start))
    for n in (100, 1_000, 10_000):
        results.append(
            ("enrich (regions, zone, distance, point flags)", n, best_of(enrich, lambda n=n: sample_rows(n)))
        )
    results.append(
        (
            "enrich + sequence flags, worst case (all legs too fast)",
            10_000,
            best_of(enrich_and_flag, lambda: sample_rows(10_000)),
        )
    )
    results.append(
        (
            "for comparison: geopy geodesic, one call per visit",
            10_000,
            best_of(geopy_loop, lambda: sample_rows(10_000), 1),
        )
    )
    if args.push:
        results.append(("sync.protocol.push.push into SQLite, writes included", 5_000, bench_push(5_000)))

    width = max(len(name) for name, _, _ in results)
    print(f"| {'step':<{width}} | {'n':>6} | {'seconds':>7} | {'visits/s':>9} |")
    print(f"|{'-' * (width + 2)}|{'-' * 8}|{'-' * 9}|{'-' * 11}|")
    for name, n, seconds in results:
        print(f"| {name:<{width}} | {n:>6,} | {seconds:>7.3f} | {n / seconds:>9,.0f} |")


if __name__ == "__main__":
    main()
