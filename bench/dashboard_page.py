"""The supervisors' dashboard page (``GET /dashboard``) over a large, busy database.

Loads 2 years of work for 200 branches in bulk (PostgreSQL ``COPY``; SQLite ``executemany``):
1,000,000 visits (3 % flagged, a third of those reviewed), 400,000 enrolments (each verified one a
contest credit), 200,000 follow-ups, 100,000 reminders and 20,000 duplicate pairs, Karawang holding 1 in
40 of each, and two contest periods (the current one 20 days in). Then times the whole page (session
cookie, the read-model ``sync.workspace.dashboard.summary``, the branch's contest standing, the template)
through the Flask test client, for the Karawang supervisor, an admin narrowed to Karawang, and an admin
over every branch, and the read-model alone for the supervisor. Target: the page in < 300 ms (p95).

    .venv/bin/python bench/dashboard_page.py [--quick] [--databases postgresql,sqlite]
                                             [--database-url postgresql://postgres@127.0.0.1/helper_g_bench]
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import time

from sqlalchemy import insert, text
from sqlalchemy.orm import Session
from support.args import database_urls, parse_args
from support.database import analyze
from support.harness import setup_bench
from support.measure import percentile
from support.report import load_note, print_table, progress

from sync.contest import periods as contest_periods
from sync.models import Enrollment, FollowUp, Visit
from sync.models.contest import ContestCredit
from sync.models.dedup import DuplicateCandidate
from sync.models.outreach import Reminder
from sync.models.visit_reviews import VisitFlagReview
from sync.protocol.clock import now_ms
from sync.workspace import dashboard, windows
from tests.factories import PASSWORD, principal_of

DEFAULT_DB = "postgresql://postgres@127.0.0.1/helper_g_bench"
DAY = 86_400_000
SPAN_DAYS = 730
BRANCHES = 200
OUTCOMES = ("enrolled", "interested", "follow_up", "refused", "not_home", "already_member")
STATUSES = ("verified",) * 6 + ("duplicate", "needs_correction", "rejected", "received")
FLAGS = ("low_accuracy", "far_from_branch", "stacked_location", "impossible_travel", "mock_location")
TARGET_MS = 300
TZ = "Asia/Jakarta"


def owner(i: int, karawang: tuple[str, list[str]]) -> tuple[str, str]:
    """(branch, agent) of the i-th row: 1 in 40 is Karawang's, the rest spread over the other branches."""
    if i % 40 == 0:
        branch, agents = karawang
        return branch, agents[i % len(agents)]
    b = 1 + i % (BRANCHES - 1)
    return f"branch{b:03d}", f"agent{b:03d}x{i % 9}"


def when(rng: random.Random, now: int) -> int:
    """Recent work weighs more: half of everything lies in the last 90 days."""
    days = rng.randrange(90) if rng.random() < 0.5 else rng.randrange(SPAN_DAYS)
    return now - days * DAY - rng.randrange(DAY)


def visits(n: int, karawang, now: int, rng: random.Random):
    for i in range(n):
        branch, agent = owner(i, karawang)
        flags = rng.choice(FLAGS) if rng.random() < 0.03 else None
        yield {
            "id": f"v{i:09d}", "server_created_at": 1_000_000 + i, "last_modified": 1_000_000 + i,
            "agent_id": agent, "branch_id": branch, "visited_at": when(rng, now),
            "latitude": -6.3 + rng.gauss(0, 1), "longitude": 107.3 + rng.gauss(0, 3),
            "outcome": rng.choice(OUTCOMES), "flags": flags,
        }  # fmt: skip


def reviews(visit_rows: list[dict], rng: random.Random):
    """A third of the flagged visits have their flag reviewed."""
    for row in visit_rows:
        if row["flags"] and rng.random() < 0.33:
            yield {
                "id": f"r{row['id']}", "visit_id": row["id"], "flag": row["flags"], "decision": "dismissed",
                "note": "ok", "reviewed_by": "admin", "reviewed_by_username": "admin", "reviewed_at": row["visited_at"],
            }  # fmt: skip


def enrollments(n: int, karawang, now: int, rng: random.Random):
    for i in range(n):
        branch, agent = owner(i, karawang)
        at = when(rng, now)
        yield {
            "id": f"e{i:09d}", "server_created_at": at, "last_modified": at, "agent_id": agent,
            "branch_id": branch, "status": rng.choice(STATUSES), "full_name": f"Orang {i}", "captured_at": at,
        }  # fmt: skip


def follow_ups(n: int, karawang, now: int, rng: random.Random):
    for i in range(n):
        branch, agent = owner(i, karawang)
        due = now + rng.randrange(-60, 30) * DAY
        status = "scheduled" if due > now else rng.choice(("done", "done", "missed", "scheduled", "cancelled"))
        yield {
            "id": f"f{i:09d}", "server_created_at": 1, "last_modified": 1, "assigned_agent_id": agent,
            "branch_id": branch, "due_at": due, "status": status, "kind": "revisit",
        }  # fmt: skip


def reminders(n: int, karawang, now: int, rng: random.Random):
    for i in range(n):
        branch, agent = owner(i, karawang)
        at = when(rng, now)
        yield {
            "id": f"m{i:09d}", "kind": "message", "recipient_type": "agent", "recipient_id": agent,
            "branch_id": branch, "channel": "sms", "text": "rapat", "timezone": "Asia/Jakarta", "due_at": at,
            "send_after": at, "status": rng.choice(("sent",) * 8 + ("dead", "failed")), "attempts": 1,
            "created_at": at, "updated_at": at,
        }  # fmt: skip


def credits(enrolment_rows: list[dict]):
    """The contest's credit row of each verified enrolment (each its own person), as the engine keeps them."""
    for row in enrolment_rows:
        if row["status"] == "verified":
            yield {
                "worker_id": f"w{row['id']}", "enrollment_id": row["id"], "agent_id": row["agent_id"],
                "branch_id": row["branch_id"], "nik_index": None, "valid_since": row["server_created_at"],
                "credit_at": row["server_created_at"], "counted": True,
            }  # fmt: skip


def candidates(n: int, karawang, now: int, rng: random.Random):
    for i in range(n):
        branch, _ = owner(i, karawang)
        at = when(rng, now)
        yield {
            "id": f"c{i:09d}", "enrollment_id": f"e{i:09d}", "worker_id": f"w{i:09d}",
            "other_worker_id": f"w{i + 1:09d}", "branch_id": branch, "other_branch_id": branch, "score": 0.8,
            "match_weight": 9.0,
            "reasons": json.dumps(["NIK sama"]), "status": "open" if rng.random() < 0.2 else "merged", "created_at": at,
        }  # fmt: skip


def load(engine, model, rows) -> int:
    """COPY on PostgreSQL; batched executemany on SQLite. Returns the row count."""
    rows = iter(rows)
    first = next(rows, None)
    if first is None:
        return 0
    columns = list(first)
    count = 0
    if engine.dialect.name == "postgresql":
        raw = engine.raw_connection()
        try:
            with raw.cursor() as cursor:
                sql = f"COPY {model.__tablename__} ({', '.join(columns)}) FROM STDIN"
                with cursor.copy(sql) as copy:
                    for row in _chain(first, rows):
                        copy.write_row([row[c] for c in columns])
                        count += 1
            raw.commit()
        finally:
            raw.close()
        return count
    batch: list[dict] = []
    with Session(engine) as session, session.begin():
        for row in _chain(first, rows):
            batch.append(row)
            count += 1
            if len(batch) == 20_000:
                session.execute(insert(model), batch)
                batch = []
        if batch:
            session.execute(insert(model), batch)
    return count


def _chain(first, rest):
    yield first
    yield from rest


def vacuum(engine) -> None:
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            auto = conn.execution_options(isolation_level="AUTOCOMMIT")
            auto.execute(text("VACUUM ANALYZE"))
    analyze(engine)


def web_client(bench, user):
    """A test client logged in through ``/login`` (the page's own cookie session)."""
    client = bench.app.test_client()
    with client.session_transaction() as session:
        session["csrf_token"] = "bench"
    response = client.post("/login", data={"csrf_token": "bench", "username": user.username, "password": PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    return client


def time_it(fn, repeat: int) -> tuple[float, float]:
    fn()  # warm caches and plans
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return percentile(samples, 50), percentile(samples, 95)


def run(kind: str, url: str, scale: float, repeat: int) -> list[list[str]]:
    bench = setup_bench(kind, url)
    try:
        world = bench.world
        karawang = (world.karawang.id, [world.agent_a.id, world.agent_b.id])
        now, rng = now_ms(), random.Random(7)
        start = time.perf_counter()
        visit_rows = list(visits(int(1_000_000 * scale), karawang, now, rng))
        enrolment_rows = list(enrollments(int(400_000 * scale), karawang, now, rng))
        counts = {
            "visits": load(bench.engine, Visit, visit_rows),
            "reviews": load(bench.engine, VisitFlagReview, reviews(visit_rows, rng)),
            "enrolments": load(bench.engine, Enrollment, enrolment_rows),
            "credits": load(bench.engine, ContestCredit, credits(enrolment_rows)),
            "follow-ups": load(bench.engine, FollowUp, follow_ups(int(200_000 * scale), karawang, now, rng)),
            "reminders": load(bench.engine, Reminder, reminders(int(100_000 * scale), karawang, now, rng)),
            "pairs": load(bench.engine, DuplicateCandidate, candidates(int(20_000 * scale), karawang, now, rng)),
        }
        del visit_rows, enrolment_rows
        with Session(bench.engine) as session, session.begin():
            today = windows.local_day(now, TZ)
            for name, first, last in (("previous", -50, -21), ("current", -20, 10)):
                contest_periods.create_period(
                    session,
                    name=name,
                    starts_on=today + dt.timedelta(days=first),
                    ends_on=today + dt.timedelta(days=last),
                )
        progress(f"{kind}: loaded {', '.join(f'{v:,} {k}' for k, v in counts.items())} in "
                 f"{time.perf_counter() - start:.0f} s")  # fmt: skip
        vacuum(bench.engine)
        supervisor, admin = web_client(bench, world.supervisor), web_client(bench, world.admin)
        table = []
        for name, client, path in (
            ("page, Karawang supervisor", supervisor, "/dashboard"),
            ("page, admin, Karawang", admin, f"/dashboard?branch={world.karawang.id}"),
            ("page, admin, every branch", admin, "/dashboard"),
        ):

            def page(client=client, path=path):
                response = client.get(path)
                assert response.status_code == 200, response.get_data(as_text=True)[:300]

            p50, p95 = time_it(page, repeat)
            table.append([kind, name, f"{p50:.1f}", f"{p95:.1f}", f"< {TARGET_MS}", "yes" if p95 < TARGET_MS else "NO"])
            progress(f"{kind}: {name}: p95 {p95:.1f} ms")
        tz = TZ

        def model():
            with Session(bench.engine) as session:
                return dashboard.summary(
                    session,
                    principal=principal_of(world.supervisor),
                    branch_id=world.karawang.id,
                    now=now,
                    tz=tz,
                    today=windows.today(now, tz),
                    period=windows.month(now, tz),
                    chart=windows.last_days(now, tz, 14),
                )

        p50, p95 = time_it(model, repeat)
        table.append([kind, "read-model only, supervisor", f"{p50:.1f}", f"{p95:.1f}", "", ""])
        return table
    finally:
        bench.close()


def main() -> None:
    args = parse_args(
        __doc__.splitlines()[0],
        lambda parser: parser.set_defaults(database_url=DEFAULT_DB, databases="postgresql"),
    )
    scale = 0.1 if args.quick else 1.0
    repeat = args.repeat or (5 if args.quick else 20)
    rows = []
    load_before = os.getloadavg()[0]
    for kind, url in database_urls(args).items():
        rows += run(kind, url, scale, repeat)
    print_table(
        f"Dashboard page over {int(1_000_000 * scale):,} visits and {int(400_000 * scale):,} enrolments "
        f"(ms, {repeat} runs each)",
        ["database", "what", "p50", "p95", "target", "met"],
        rows,
    )
    print(f"\n{load_note(load_before)}")


if __name__ == "__main__":
    main()
