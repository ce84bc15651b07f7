"""The contest leaderboard over 2 years of data: 4,000 branches, 20,000 agents, 1,000,000 enrolments.

Loads branches, agents (1,000 of them moved branch once), people and their enrolments (5% duplicates,
500 pairs of people sharing a NIK, phone clocks ahead and behind), visits and eight quarterly periods
with a target for every branch, in bulk (PostgreSQL ``COPY``; SQLite ``executemany``). The bulk load
bypasses the push, so the credit table is rebuilt from it (``sync.contest.credit.rebuild_credits``, timed).
Then times the branch table (the engine function and ``GET /api/v1/contest/leaderboard`` through the Flask
test client) mid-quarter, one branch's agent ranking, the CSV, and the credit upkeep a 500-person push adds
(``refresh_credits``). Target: the leaderboard < 200 ms on PostgreSQL.

    .venv/bin/python bench/contest_leaderboard.py [--quick] [--enrollments N] [--databases postgresql,sqlite]
                                                  [--database-url postgresql://postgres@127.0.0.1/bench_contest]
"""

from __future__ import annotations

import datetime as dt
import gc
import os
import random
import time
from zoneinfo import ZoneInfo

from sqlalchemy import func, insert, select, text
from sqlalchemy.orm import Session
from support.args import database_urls, parse_args
from support.database import RAW_NAME
from support.harness import setup_bench
from support.measure import CpuMeter, Sample, percentile
from support.report import load_note, print_table, progress

from sync.contest import leaderboard, periods
from sync.contest.credit import rebuild_credits, refresh_credits
from sync.models import Branch, Enrollment, User, Visit, Worker
from sync.models.contest import ContestCredit, ContestPeriod, ContestTarget, UserBranchHistory
from tests.factories import principal_of

DEFAULT_DB = "postgresql://postgres@127.0.0.1/bench_contest"
WIB = ZoneInfo("Asia/Jakarta")
DAY = 86_400_000
FIRST_DAY = dt.date(2025, 1, 1)  # two years: 2025 and 2026, eight quarters
AS_OF = int(dt.datetime(2026, 11, 15, 12, tzinfo=WIB).timestamp()) * 1000  # mid Q4 2026
AGENTS_PER_BRANCH = 5
MOVED_AGENTS = 1_000
HELD_PAIRS = 500


def day_ms(day: dt.date) -> int:
    return periods.day_start(day, "Asia/Jakarta")


SPAN = (day_ms(FIRST_DAY), day_ms(dt.date(2027, 1, 1)))


def copy_rows(engine, model, columns: tuple[str, ...], rows) -> int:
    """COPY on PostgreSQL; batched executemany on SQLite. Returns the number of rows."""
    count = 0
    if engine.dialect.name == "postgresql":
        raw = engine.raw_connection()
        try:
            table = model.__tablename__
            with raw.cursor() as cursor, cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
                    count += 1
            raw.commit()
        finally:
            raw.close()
        return count
    batch: list[dict] = []
    with Session(engine) as session, session.begin():
        for row in rows:
            batch.append(dict(zip(columns, row, strict=True)))
            count += 1
            if len(batch) == 20_000:
                session.execute(insert(model), batch)
                batch = []
        if batch:
            session.execute(insert(model), batch)
    return count


def load(engine, world, n_enrollments: int, n_branches: int, seed: int = 7) -> dict:
    """Everything the leaderboard reads. Returns the agents per branch (the world's two branches included)."""
    rng = random.Random(seed)
    created = SPAN[0] - 30 * DAY
    branch_ids = [world.karawang.id, world.makassar.id] + [f"b{i:05d}" for i in range(n_branches - 2)]
    copy_rows(
        engine,
        Branch,
        ("id", "code", "name", "kind", "latitude", "longitude", "region"),
        (
            (b, f"KC-B{i:05d}", f"KC Cabang {i:05d}", "KC", -6.0, 107.0, f"Region {i % 34:02d}")
            for i, b in enumerate(branch_ids[2:])
        ),  # fmt: skip
    )
    agents = {b: [f"a{b}x{k}" for k in range(AGENTS_PER_BRANCH)] for b in branch_ids}
    agents[world.karawang.id] = [world.agent_a.id, world.agent_b.id]
    agents[world.makassar.id] = [world.agent_c.id]
    copy_rows(
        engine,
        User,
        ("id", "username", "full_name", "password_hash", "role", "branch_id", "active", "created_at"),
        ((a, f"agen.{a}", None, "-", "agent", b, True, created) for b in branch_ids[2:] for a in agents[b]),
    )
    all_agents = [(a, b) for b in branch_ids for a in agents[b]]
    # Some branches are busier than others (weights 1…10), as in the real drive.
    weights = [1 + (i * 7919) % 10 for i in range(len(all_agents))]
    moves: dict[str, tuple[int, str]] = {}
    for agent, _ in rng.sample(all_agents[3:], min(MOVED_AGENTS, len(all_agents) // 4)):
        moves[agent] = (rng.randrange(*SPAN), rng.choice(branch_ids))
    home_of = {a: b for a, b in all_agents}
    copy_rows(
        engine,
        UserBranchHistory,
        ("user_id", "branch_id", "since"),
        (
            row
            for agent, (moved_at, target) in moves.items()
            for row in ((agent, home_of[agent], created), (agent, target, moved_at))
        ),  # fmt: skip
    )
    with Session(engine) as session, session.begin():
        for agent, (_, target) in moves.items():
            session.execute(User.__table__.update().where(User.id == agent).values(branch_id=target))

    n_people = int(n_enrollments * 0.95)
    people_agent: list[int] = []

    def workers():
        for i in range(n_people):
            nik = f"nik{i:08d}" if i >= min(2 * HELD_PAIRS, n_people // 10) else f"nik-pair{i // 2:05d}"
            stamp = rng.randrange(*SPAN)
            yield (f"w{i:08d}", stamp, stamp, nik, "registered")

    copy_rows(engine, Worker, ("id", "server_created_at", "last_modified", "nik_index", "membership_status"), workers())
    first_valid: list[int] = []

    def enrollments():
        picks = rng.choices(range(len(all_agents)), weights=weights, k=n_enrollments)
        for i in range(n_enrollments):
            agent, branch = all_agents[picks[i]]
            if i < n_people:
                person, status = i, "verified"
                valid_since = rng.randrange(*SPAN)
                first_valid.append(valid_since)
                people_agent.append(picks[i])
            else:  # a later enrolment of someone already enrolled
                person, status = rng.randrange(n_people), "duplicate"
                valid_since = min(first_valid[person] + rng.randrange(1, 60) * DAY, SPAN[1] - 1)
            roll = rng.random()
            if roll < 0.02:
                captured = valid_since + rng.randrange(1, 30) * DAY  # clock ahead
            elif roll < 0.03:
                captured = valid_since - 10 * DAY  # clock ten days behind
            else:
                captured = valid_since - rng.randrange(0, 3 * DAY)
            yield (
                f"e{i:08d}",
                valid_since,
                valid_since,
                agent,
                branch,
                f"w{person:08d}",
                status,
                captured,
                valid_since,
            )

    columns = ("id", "server_created_at", "last_modified", "agent_id", "branch_id", "worker_id", "status",
               "captured_at", "valid_since")  # fmt: skip
    copy_rows(engine, Enrollment, columns, enrollments())

    def visits():
        for i in range(n_enrollments):
            agent, branch = all_agents[rng.randrange(len(all_agents))]
            stamp = 1_000_000 + i
            yield (f"v{i:08d}", stamp, stamp, agent, branch, rng.randrange(*SPAN), -6.3, 107.3, "interested")

    copy_rows(
        engine,
        Visit,
        (
            "id",
            "server_created_at",
            "last_modified",
            "agent_id",
            "branch_id",
            "visited_at",
            "latitude",
            "longitude",
            "outcome",
        ),  # fmt: skip
        visits(),
    )
    quarters = []
    with Session(engine) as session, session.begin():
        for q in range(8):
            start = dt.date(2025 + q // 4, 1 + 3 * (q % 4), 1)
            end = dt.date(start.year + (q % 4 == 3), 1 + 3 * ((q + 1) % 4), 1) - dt.timedelta(days=1)
            made = periods.create_period(session, name=f"Periode {q + 1}", starts_on=start, ends_on=end)
            quarters.append(made.id)
        session.execute(
            insert(ContestTarget),
            [
                {"period_id": p, "branch_id": b, "target": 50 + (i % 200)}
                for p in quarters
                for i, b in enumerate(branch_ids)
            ],
        )
    return {"agents": agents, "periods": quarters, "branches": branch_ids}


def vacuum(engine) -> None:
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            auto = conn.execution_options(isolation_level="AUTOCOMMIT")
            auto.execute(text("VACUUM ANALYZE"))
        else:
            conn.exec_driver_sql("ANALYZE")
            conn.commit()


def summary(samples: list[Sample]) -> tuple[float, float, float, float]:
    """Wall p50 and p95, CPU (this process + its PostgreSQL backends) p50 and p95, in ms."""
    wall = [x.wall * 1000 for x in samples]
    cpu = [x.cpu * 1000 for x in samples]
    return percentile(wall, 50), percentile(wall, 95), percentile(cpu, 50), percentile(cpu, 95)


def run(kind: str, url: str, n_enrollments: int, n_branches: int, repeat: int, freeze: bool) -> list[list[str]]:
    bench = setup_bench(kind, url)
    try:
        world, engine = bench.world, bench.engine
        start = time.perf_counter()
        data = load(engine, world, n_enrollments, n_branches)
        progress(f"{kind}: loaded {n_branches:,} branches, {n_enrollments:,} enrolments and visits "
                 f"in {time.perf_counter() - start:.0f} s")  # fmt: skip
        start = time.perf_counter()
        with Session(engine) as session, session.begin():
            credits = rebuild_credits(session)
        rebuild_s = time.perf_counter() - start
        progress(f"{kind}: rebuilt {credits:,} credit rows in {rebuild_s:.0f} s")
        vacuum(engine)
        q4 = data["periods"][-1]
        with Session(engine) as session:
            period = session.get(ContestPeriod, q4)
            in_period = session.execute(
                select(func.count()).where(
                    ContestCredit.counted, ContestCredit.credit_at >= period.starts_at, ContestCredit.credit_at < AS_OF
                )
            ).scalar_one()
        if freeze:  # what a server that calls gc.freeze() after start-up does: old objects leave the GC's scans
            gc.collect()
            gc.freeze()
        supervisor = principal_of(world.supervisor)
        headers = bench.api.headers(world.admin, "bench-web")
        spv_headers = bench.api.headers(world.supervisor, "bench-web")
        query = f"period_id={q4}&as_of={AS_OF}"

        def function():
            with Session(engine) as session:
                return leaderboard.branch_leaderboard(session, period_id=q4, as_of=AS_OF)

        def http(path: str, who=headers):
            def call():
                response = bench.client.get(path, headers=who)
                assert response.status_code == 200, response.get_data(as_text=True)[:300]
                return response

            return call

        def agents():
            with Session(engine) as session:
                return leaderboard.agent_leaderboard(session, principal=supervisor, period_id=q4, as_of=AS_OF)

        def upkeep(new_people: bool) -> Sample:
            """``refresh_credits`` after a push's 500 enrolments by one agent: new people, or edits of
            people already credited (nothing to write); the transaction is rolled back."""
            rng = random.Random(3)
            with Session(engine) as session, session.begin():
                if new_people:
                    stamp = AS_OF
                    ids = [f"new{i:05d}" for i in range(500)]
                    session.execute(
                        insert(Worker.__table__),
                        [
                            {
                                "id": w,
                                "server_created_at": stamp,
                                "last_modified": stamp,
                                "nik_index": f"nik-{w}",
                                "membership_status": "registered",
                            }
                            for w in ids
                        ],  # fmt: skip
                    )
                    session.execute(
                        insert(Enrollment.__table__),
                        [
                            {
                                "id": f"e-{w}",
                                "server_created_at": stamp,
                                "last_modified": stamp,
                                "agent_id": world.agent_a.id,
                                "branch_id": world.karawang.id,
                                "worker_id": w,
                                "status": "verified",
                                "captured_at": stamp,
                                "valid_since": stamp,
                            }
                            for w in ids
                        ],  # fmt: skip
                    )
                else:
                    ids = [f"w{i:08d}" for i in rng.sample(range(int(n_enrollments * 0.95)), 500)]
                sample = direct.measure(lambda: refresh_credits(session, ids))
                session.rollback()
            return sample

        direct = CpuMeter(bench, RAW_NAME, in_process=True)  # the engine functions, on the bench's engine
        served = CpuMeter(bench)  # the app's requests through the test client
        rows = []
        cases = [
            ("branch table, engine function", function, 200),
            ("GET /contest/leaderboard (admin)", http(f"/api/v1/contest/leaderboard?{query}"), 200),
            ("GET /contest/leaderboard.csv", http(f"/api/v1/contest/leaderboard.csv?{query}"), 200),
            (
                "GET /contest/leaderboard/agents (supervisor)",
                http(f"/api/v1/contest/leaderboard/agents?{query}", spv_headers),
                200,
            ),  # fmt: skip
            ("agent ranking, engine function", agents, 200),
        ]
        for name, fn, target in cases:
            meter = direct if "engine function" in name else served
            fn()  # warm caches and plans
            samples = [meter.measure(fn) for _ in range(repeat)]
            result = samples[-1].result
            if name.endswith("engine function") and "branch" in name:
                assert len(result["items"]) == n_branches
                assert sum(i["enrollments"] for i in result["items"]) == in_period
                assert leaderboard.standing(result, world.karawang.id) is not None
            w50, w95, c50, c95 = summary(samples)
            rows.append([kind, name, f"{w50:.1f}", f"{w95:.1f}", f"{c50:.1f}", f"{c95:.1f}", f"< {target}",
                         "yes" if w95 < target else "NO", "yes" if c95 < target else "NO"])  # fmt: skip
            progress(f"{kind}: {name}: wall p50 {w50:.1f} p95 {w95:.1f} ms, CPU p50 {c50:.1f} p95 {c95:.1f} ms")
        for label, new_people in (("500 new people", True), ("500 edits, no credit changes", False)):
            upkeep(new_people)
            w50, w95, c50, c95 = summary([upkeep(new_people) for _ in range(repeat)])
            rows.append([kind, f"credit upkeep of a push: {label}", f"{w50:.1f}", f"{w95:.1f}", f"{c50:.1f}",
                         f"{c95:.1f}", "", "", ""])  # fmt: skip
            progress(f"{kind}: credit upkeep, {label}: wall p50 {w50:.1f} ms, CPU p50 {c50:.1f} ms")
        rows.append(
            [
                kind,
                f"rebuild of {credits:,} credit rows (once, after a bulk load)",
                "",
                f"{rebuild_s * 1000:,.0f}",
                "",
                "",
                "",
                "",
                "",
            ]
        )
        progress(f"{kind}: {in_period:,} counted credits in Q4 2026 up to as_of")
        return rows
    finally:
        bench.close()


def main() -> None:
    args = parse_args(
        __doc__.splitlines()[0],
        lambda parser: (
            parser.add_argument("--enrollments", type=int, default=None, help="default 1,000,000"),
            parser.add_argument("--branches", type=int, default=None, help="default 4,000"),
            parser.add_argument(
                "--gc-freeze",
                action="store_true",
                help="gc.freeze() after loading, as a server that freezes its start-up objects (no full GC scans "
                "of them in the middle of a request)",
            ),
            parser.set_defaults(database_url=DEFAULT_DB, databases="postgresql"),
        ),
    )
    n_enrollments = args.enrollments or (100_000 if args.quick else 1_000_000)
    n_branches = args.branches or (1_000 if args.quick else 4_000)
    repeat = args.repeat or (5 if args.quick else 20)
    rows = []
    load_before = os.getloadavg()[0]
    for kind, url in database_urls(args).items():
        rows += run(kind, url, n_enrollments, n_branches, repeat, args.gc_freeze)
    print_table(
        f"Contest leaderboard: {n_branches:,} branches, {n_enrollments:,} enrolments over 2 years "
        f"(ms, {repeat} runs each; mid-quarter as_of, previous quarter compared"
        f"{'; gc.freeze() after loading' if args.gc_freeze else ''})",
        ["database", "what", "wall p50", "wall p95", "CPU p50", "CPU p95", "target", "met (wall)", "met (CPU)"],
        rows,
    )
    print(f"\n{load_note(load_before)}")


if __name__ == "__main__":
    main()
