"""Map queries over 1,000,000 visits: the whole-country view and a district (regency-sized) view.

Loads the visits in bulk (PostgreSQL ``COPY`` through psycopg; SQLite ``executemany``), spread around
120 towns across the archipelago with one Karawang branch holding its share, then times the same
functions the API uses (``sync.visits.listing``) and the HTTP routes through the Flask test client
(``GET /api/v1/visits.geojson`` and ``GET /api/v1/visits``). Targets: country view < 300 ms, district
view < 150 ms (p95). The bulk load bypasses pushes, so the map's rollup (``visit_cells``) is rebuilt
after it (``sync.visits.rollup.rebuild``); the "direct" columns time the clustered views without it.

    .venv/bin/python bench/map_query.py [--quick] [--visits N] [--databases postgresql,sqlite]
                                        [--database-url postgresql://postgres@127.0.0.1/test_h3]
"""

from __future__ import annotations

import os
import random
import time
import urllib.parse

from sqlalchemy import insert, text
from sqlalchemy.orm import Session
from support.args import parse_args
from support.database import analyze
from support.harness import setup_bench
from support.measure import percentile
from support.report import load_note, print_table, progress

from sync.models import Visit
from sync.visits import clusters, geojson, listing
from sync.visits import rollup as visit_rollup
from tests.factories import principal_of

DEFAULT_DB = "postgresql://postgres@127.0.0.1/test_h3"
OUTCOMES = ("enrolled", "interested", "follow_up", "refused", "not_home", "already_member")
FLAG_CHOICES = ("low_accuracy", "far_from_branch", "stacked_location", "impossible_travel", "mock_location")
COUNTRY = (94.0, -11.5, 141.5, 6.5)  # Indonesia's extent (w, s, e, n)
KARAWANG_BBOX = (107.05, -6.55, 107.65, -6.05)  # about the size of Kabupaten Karawang
KARAWANG = (-6.30, 107.30)
DAY = 86_400_000
COLUMNS = (
    "id",
    "server_created_at",
    "last_modified",
    "agent_id",
    "branch_id",
    "visited_at",
    "latitude",
    "longitude",
    "accuracy_m",
    "outcome",
    "regency_code",
    "regency",
    "province_code",
    "flags",
)


def towns(rng: random.Random, n: int = 120) -> list[tuple[float, float]]:
    """Town centres: Java and Sumatra dense, the rest of the archipelago sparser (points at sea are fine)."""
    spots = [KARAWANG]
    while len(spots) < n:
        if rng.random() < 0.5:
            spots.append((rng.uniform(-8.5, -6.0), rng.uniform(105.5, 114.5)))  # Java
        else:
            spots.append((rng.uniform(-10.5, 5.5), rng.uniform(95.5, 140.5)))
    return spots


def visit_rows(n: int, *, karawang_branch: str, karawang_agents: list[str], now: int, seed: int = 11):
    """``n`` visit tuples in ``COLUMNS`` order; 1 in 40 lands in Karawang's branch, 3 % carry a flag."""
    rng = random.Random(seed)
    spots = towns(rng)
    for i in range(n):
        spot = rng.randrange(len(spots))
        if i % 40 == 0:
            spot, branch, agent = 0, karawang_branch, karawang_agents[i % len(karawang_agents)]
        else:
            spot = spot or 1
            branch, agent = f"branch{spot:03d}", f"agent{spot:03d}x{i % 7}"
        lat, lon = spots[spot]
        flags = rng.choice(FLAG_CHOICES) if rng.random() < 0.03 else None
        stamp = 1_000_000 + i
        yield (
            f"v{i:09d}",
            stamp,
            stamp,
            agent,
            branch,
            now - rng.randrange(365) * DAY - rng.randrange(DAY),
            lat + rng.gauss(0, 0.12),
            lon + rng.gauss(0, 0.12),
            round(rng.uniform(3, 60), 1),
            rng.choice(OUTCOMES),
            f"R{spot:03d}",
            f"Kabupaten {spot:03d}",
            "32",
            flags,
        )


def load_visits(engine, rows) -> None:
    """COPY on PostgreSQL (about 1 s per 100k rows here); batched executemany on SQLite."""
    if engine.dialect.name == "postgresql":
        raw = engine.raw_connection()
        try:
            with raw.cursor() as cursor, cursor.copy(f"COPY visits ({', '.join(COLUMNS)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            raw.commit()
        finally:
            raw.close()
        return
    batch: list[dict] = []
    with Session(engine) as session, session.begin():
        for row in rows:
            batch.append(dict(zip(COLUMNS, row, strict=True)))
            if len(batch) == 20_000:
                session.execute(insert(Visit), batch)
                batch = []
        if batch:
            session.execute(insert(Visit), batch)


def rebuild_rollup(engine) -> None:
    """Fill ``visit_cells`` from the loaded visits (pushes keep it current; COPY does not)."""
    with Session(engine) as session, session.begin():
        visit_rollup.rebuild(session)


def vacuum(engine) -> None:
    """VACUUM ANALYZE on PostgreSQL (fresh visibility map and statistics, as autovacuum leaves them)."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            auto = conn.execution_options(isolation_level="AUTOCOMMIT")
            auto.execute(text("VACUUM ANALYZE visits"))
            auto.execute(text("VACUUM ANALYZE visit_cells"))
    analyze(engine)


def time_it(fn, repeat: int) -> tuple[float, float, object]:
    fn()  # warm caches and the plan
    samples, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        samples.append((time.perf_counter() - start) * 1000)
    return percentile(samples, 50), percentile(samples, 95), result


def bbox_param(bbox) -> str:
    return ",".join(str(v) for v in bbox)


def scenarios(now: int):
    """(name, who, filters, zoom, target ms) for the views a supervisor or admin opens."""
    last_30 = {"date_from": now - 30 * DAY, "date_to": now}
    return [
        ("country, admin, zoom 5", "admin", {"bbox": COUNTRY}, 5, 300),
        ("country, admin, zoom 5, last 30 days", "admin", {"bbox": COUNTRY, **last_30}, 5, 300),
        ("country, admin, zoom 5, flag", "admin", {"bbox": COUNTRY, "flag": "mock_location"}, 5, 300),
        ("country, supervisor, zoom 5", "supervisor", {"bbox": COUNTRY}, 5, 300),
        ("district, admin, zoom 11", "admin", {"bbox": KARAWANG_BBOX}, 11, 150),
        ("district, admin, zoom 11, last 30 days", "admin", {"bbox": KARAWANG_BBOX, **last_30}, 11, 150),
        ("district, supervisor, zoom 11", "supervisor", {"bbox": KARAWANG_BBOX}, 11, 150),
        ("district, supervisor, zoom 13, 30 days", "supervisor", {"bbox": KARAWANG_BBOX, **last_30}, 13, 150),
    ]


def http_params(filters: dict, zoom: int) -> str:
    params = {"zoom": zoom}
    for name, value in filters.items():
        key = {"date_from": "from", "date_to": "to"}.get(name, name)
        params[key] = bbox_param(value) if name == "bbox" else value
    return urllib.parse.urlencode(params)


def run(kind: str, url: str, n_visits: int, repeat: int) -> list[list[str]]:
    bench = setup_bench(kind, url)
    try:
        world = bench.world
        now = int(time.time() * 1000)
        start = time.perf_counter()
        rows = visit_rows(
            n_visits, karawang_branch=world.karawang.id, karawang_agents=[world.agent_a.id, world.agent_b.id], now=now
        )
        load_visits(bench.engine, rows)
        progress(f"{kind}: loaded {n_visits:,} visits in {time.perf_counter() - start:.1f} s")
        start = time.perf_counter()
        rebuild_rollup(bench.engine)
        with bench.engine.connect() as conn:
            cells = conn.execute(text("SELECT count(*) FROM visit_cells")).scalar_one()
        progress(f"{kind}: rebuilt the rollup ({cells:,} rows) in {time.perf_counter() - start:.1f} s")
        vacuum(bench.engine)
        people = {"admin": world.admin, "supervisor": world.supervisor}
        table = []
        for name, who, filters, zoom, target in scenarios(now):
            principal = principal_of(people[who])
            visit_filters = listing.VisitFilters(**filters)

            def query(principal=principal, visit_filters=visit_filters, zoom=zoom):
                with Session(bench.engine) as session:
                    return geojson.visits_geojson(session, principal=principal, filters=visit_filters, zoom=zoom)

            headers = bench.api.headers(people[who], "bench-web")
            path = f"/api/v1/visits.geojson?{http_params(filters, zoom)}"

            def http(path=path, headers=headers):
                response = bench.client.get(path, headers=headers)
                assert response.status_code == 200, response.get_data(as_text=True)
                return response.json

            def direct(principal=principal, visit_filters=visit_filters, zoom=zoom):
                with Session(bench.engine) as session:
                    return clusters.cluster_cells(
                        session, principal=principal, filters=visit_filters, zoom=zoom, use_rollup=False
                    )

            f50, f95, body = time_it(query, repeat)
            h50, h95, http_body = time_it(http, repeat)
            assert http_body["total"] == body["total"]
            d95 = ""
            if body["clustered"] and clusters.rollup_can_answer(visit_filters, zoom):
                _, d95_ms, cells = time_it(direct, repeat)
                assert sum(c["count"] for c in cells) == body["total"]  # the rollup answers exactly
                d95 = f"{d95_ms:.1f}"
            ok = "yes" if max(f95, h95) < target else "NO"
            kind_of = "clusters" if body["clustered"] else "points"
            table.append(
                [
                    kind,
                    name,
                    f"{body['total']:,}",
                    f"{len(body['features']):,} {kind_of}",
                    f"{f50:.1f}",
                    f"{f95:.1f}",
                    f"{h50:.1f}",
                    f"{h95:.1f}",
                    d95,
                    f"< {target}",
                    ok,
                ]
            )
            progress(f"{kind}: {name}: function p95 {f95:.1f} ms, HTTP p95 {h95:.1f} ms")
        # The list endpoint for a district, first page (what a table view of the same area asks).
        headers = bench.api.headers(world.supervisor, "bench-web")
        path = f"/api/v1/visits?bbox={bbox_param(KARAWANG_BBOX)}&limit=50"

        def page(path=path, headers=headers):
            return bench.client.get(path, headers=headers).json

        h50, h95, body = time_it(page, repeat)
        table.append([kind, "district list, supervisor, 50 per page", "", "50 items", "", "", f"{h50:.1f}",
                      f"{h95:.1f}", "", "< 150", "yes" if h95 < 150 else "NO"])  # fmt: skip
        return table
    finally:
        bench.close()


def main() -> None:
    args = parse_args(
        __doc__.splitlines()[0],
        lambda parser: (
            parser.add_argument("--visits", type=int, default=None, help="visits to load (default 1,000,000)"),
            parser.set_defaults(database_url=DEFAULT_DB, databases="postgresql"),
        ),
    )
    n_visits = args.visits or (200_000 if args.quick else 1_000_000)
    repeat = args.repeat or (5 if args.quick else 20)
    from support.args import database_urls

    rows = []
    load_before = os.getloadavg()[0]
    for kind, url in database_urls(args).items():
        rows += run(kind, url, n_visits, repeat)
    print_table(
        f"Map queries over {n_visits:,} visits (p50/p95 ms, {repeat} runs each)",
        [
            "database",
            "view",
            "visits",
            "features",
            "function p50",
            "function p95",
            "HTTP p50",
            "HTTP p95",
            "direct p95",
            "target",
            "met",
        ],
        rows,
    )
    print(f"\n{load_note(load_before)}")


if __name__ == "__main__":
    main()
