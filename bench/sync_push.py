"""Push throughput: WatermelonDB pushes through the HTTP API against a raw bulk insert of the same rows.

Each push carries half new enrolments (valid, distinct people of the agent's area: each one creates a
worker) and half new visits (a day's walk around a village, mixed outcomes), posted as a phone does
(pre-serialised JSON, bearer token, ``last_pulled_at`` = the current clock) to ``POST /api/v1/sync/push``
of the app built by ``server.create_app``: through Werkzeug's test client by default (the whole WSGI
stack in this process, no TCP socket), or ``--transport gunicorn`` (a real server on 127.0.0.1).

The baseline is SQLAlchemy Core ``insert()`` executemany of the very rows the push stored (read back and
given new ids) into ``enrollments`` and ``visits``, in one transaction. ``push/raw`` is the share of the
raw insert rate a push keeps; the rest goes to what a push does beyond inserting (validation, encryption,
duplicate matching, worker creation, geo flags, follow-ups, auth, archive, JSON).

Two tables: wall time (latency, records/s) and CPU time (app process + PostgreSQL backends), the second
being what a push costs whatever else the machine is doing. The "existing workers" variant seeds realistic
workers of the same regency (bulk insert: each with the enrolment that made it and its blocking keys in
``match_keys``) before 500-record pushes.

    .venv/bin/python bench/sync_push.py [--quick] [--databases sqlite,postgresql] [--database-url URL]
    .venv/bin/python bench/sync_push.py --workers-only --databases postgresql [--workers 100000]
    .venv/bin/python bench/sync_push.py --workers-only --databases postgresql --workers 10000,200000  # growth
    .venv/bin/python bench/sync_push.py --profile [--profile-records 5000] [--workers 100000]
"""

from __future__ import annotations

import json
import re

from sqlalchemy import delete, insert, select
from sqlalchemy.engine import Engine
from support.args import database_urls, parse_args
from support.database import RAW_NAME, analyze, clear_records, clock_value
from support.harness import TRANSPORTS, Bench, push, setup_bench
from support.measure import CpuMeter, Sample, percentile, timed
from support.profiling import profile
from support.records import person, push_body
from support.report import fmt_int, machine_note, print_table, progress

from sync.enrollments.duplicates.normalize import clear_caches
from sync.models import Enrollment, Visit, Worker
from sync.models.dedup import MatchKey
from sync.pii import PiiProtector, mask_nik, mask_phone

FULL = {
    "sizes": (100, 500, 5000),
    "repeat": {100: 15, 500: 10, 5000: 5},
    "workers": 100_000,
    "workers_size": 500,
    "workers_repeat": 5,
}
QUICK = {
    "sizes": (100, 500),
    "repeat": {100: 5, 500: 3},
    "workers": 5_000,
    "workers_size": 500,
    "workers_repeat": 2,
}
WORKER_CHUNK = 10_000
SEEDED_ID = re.compile(r"w\d{15}")  # ids of the seeded workers


def configure(parser) -> None:
    parser.add_argument(
        "--workers",
        type=lambda text: [int(part) for part in text.split(",") if part.strip()],
        default=None,
        help=f"existing workers for the 'with workers' variant, or a comma list of sizes to see how matching "
        f"cost grows (10000,200000) (default {FULL['workers']:,}; --quick {QUICK['workers']:,}; 0 skips it); "
        "with --profile, the first is seeded before the profiled push",
    )
    parser.add_argument(
        "--checkpoint",
        action="store_true",
        help="force a PostgreSQL checkpoint after seeding workers (worst case: full-page writes in every push)",
    )
    parser.add_argument(
        "--workers-only", action="store_true", help="run only the 'with workers' variant (no empty-database sizes)"
    )
    parser.add_argument("--profile-records", type=int, default=500, help="push size for --profile (default 500)")
    parser.add_argument(
        "--workers-on",
        default="postgresql",
        help="comma list of databases that run the 'with workers' variant (default: postgresql)",
    )


# ---------------------------------------------------------------- the baseline


def stored_rows(engine: Engine, body: bytes) -> tuple[list[dict], list[dict]]:
    """The enrolment and visit rows one push stored, as plain dicts (the baseline's templates)."""
    changes = json.loads(body)["changes"]
    ids = {t: [r["id"] for r in changes[t]["created"]] for t in ("enrollments", "visits")}
    with engine.connect() as conn:
        enrolments = [
            dict(r)
            for r in conn.execute(select(Enrollment.__table__).where(Enrollment.id.in_(ids["enrollments"]))).mappings()
        ]
        visits = [dict(r) for r in conn.execute(select(Visit.__table__).where(Visit.id.in_(ids["visits"]))).mappings()]
    if len(enrolments) != len(ids["enrollments"]) or len(visits) != len(ids["visits"]):
        raise RuntimeError("the push did not store every record")
    return enrolments, visits


def raw_insert(bench: Bench, templates: tuple[list[dict], list[dict]], tag: str) -> Sample:
    """Insert copies of the templates under new ids, executemany, in one transaction."""
    enrolments = [{**row, "id": f"{row['id']}{tag}"} for row in templates[0]]
    visits = [{**row, "id": f"{row['id']}{tag}"} for row in templates[1]]

    def run():
        with bench.engine.begin() as conn:
            if enrolments:
                conn.execute(insert(Enrollment.__table__), enrolments)
            if visits:
                conn.execute(insert(Visit.__table__), visits)

    return CpuMeter(bench, RAW_NAME, in_process=True).measure(run)


def remove_raw(bench: Bench, templates: tuple[list[dict], list[dict]], tag: str) -> None:
    """Delete one raw insert's copies: left in place they would be neighbours and duplicates of the next push's
    records (same places, same people), making every later push do more work than a real one would."""
    with bench.engine.begin() as conn:
        for model, rows in ((Enrollment, templates[0]), (Visit, templates[1])):
            ids = [f"{row['id']}{tag}" for row in rows]
            if ids:
                conn.execute(delete(model.__table__).where(model.__table__.c.id.in_(ids)))


# ---------------------------------------------------------------- existing workers


def worker_rows(pii: PiiProtector, start: int, count: int) -> tuple[list[dict], list[dict], list[dict]]:
    """Workers as a push makes them (encrypted NIK and phone, blind indexes), each with the enrolment that made
    it and that enrolment's blocking keys in the candidate store (``match_keys``), which matching reads."""
    from sync.enrollments.duplicates.keys import key_set
    from sync.enrollments.duplicates.matcher import person_of
    from sync.enrollments.duplicates.store import key_rows

    worker_columns = {c.name for c in Worker.__table__.columns}
    workers, enrolments, keys = [], [], {}
    for i in range(start, start + count):
        who = person(i, seeded=True, phone_prefix="0813")  # other people of the same area
        wid, eid, nik, e164 = f"w{i:015d}", f"e{i:015d}", who["nik"], "+62" + who["phone"][1:]  # SEEDED_ID
        phone_index = pii.blind_index("phone", e164)
        identity = {k: who[k] for k in ("full_name", "birth_date", "sex", "village")}
        stamps = {"server_created_at": 1 + i, "last_modified": 1 + i, "deleted_at": None, "created_by_device": None}
        row = {
            "id": wid,
            **stamps,
            **identity,
            "nik_encrypted": pii.encrypt(nik, row_id=wid),
            "nik_index": pii.blind_index("nik", nik),
            "nik_masked": mask_nik(nik),
            "phone_encrypted": pii.encrypt(e164, row_id=wid),
            "phone_index": phone_index,
            "phone_masked": mask_phone(e164),
            "occupation": "nelayan",
            "membership_status": "registered",
            "enrolled_by_agent_id": f"agent{i % 200:011d}",
            "enrolled_at": 1 + i,
        }
        workers.append({k: v for k, v in row.items() if k in worker_columns})
        enrolments.append(
            {
                "id": eid,
                **stamps,
                **identity,
                "agent_id": row["enrolled_by_agent_id"],
                "branch_id": None,
                "nik_encrypted": pii.encrypt(nik, row_id=eid),
                "nik_index": row["nik_index"],
                "nik_masked": row["nik_masked"],
                "phone_encrypted": pii.encrypt(who["phone"], row_id=eid),
                "phone_e164": pii.encrypt(e164, row_id=eid),
                "phone_index": phone_index,
                "phone_masked": row["phone_masked"],
                "occupation": "nelayan",
                "address": who.get("address"),
                "programs": "JKK,JKM",
                "status": "verified",
                "worker_id": wid,
                "worker_linked_at": 1 + i,
                "credited_agent_id": row["enrolled_by_agent_id"],
                "valid_since": 1 + i,
            }
        )
        keys[eid] = key_set(person_of(nik=nik, phone_index=phone_index, address=who.get("address"), **identity), pii)
    return workers, enrolments, key_rows(keys)


def seed_workers(bench: Bench, count: int, checkpoint: bool = False) -> float:
    """Bulk-insert ``count`` realistic workers (Core insert executemany, 10,000 a transaction); seconds."""

    def run():
        for start in range(0, count, WORKER_CHUNK):
            workers, enrolments, keys = worker_rows(bench.pii, start, min(WORKER_CHUNK, count - start))
            with bench.engine.begin() as conn:
                conn.execute(insert(Worker.__table__), workers)
                conn.execute(insert(Enrollment.__table__), enrolments)
                conn.execute(insert(MatchKey.__table__), keys)

    seconds, _ = timed(run)
    analyze(bench.engine, checkpoint=checkpoint)
    clear_caches()  # seeding normalised every name in this process; a server would not have
    return seconds


# ---------------------------------------------------------------- the benchmark


def check_results(response, n_records: int) -> tuple[dict[str, int], dict[str, int]]:
    """Every record must be stored as valid; returns the enrolments' statuses and the visits' flags."""
    results = response.get_json()["results"]
    enrolment_results = list(results.get("enrollments", {}).values())
    enrolments = [r["status"] for r in enrolment_results]
    visits = list(results.get("visits", {}).values())
    statuses = {s: enrolments.count(s) for s in sorted(set(enrolments))}
    if len(enrolments) != n_records // 2 or set(statuses) - {"verified", "duplicate"}:
        raise RuntimeError(f"unexpected enrolment results {statuses} for {n_records // 2} enrolments")
    if [v["status"] for v in visits].count("accepted") != n_records - n_records // 2:
        raise RuntimeError(f"unexpected visit results {sorted({v['status'] for v in visits})}")
    linked = sum(1 for r in enrolment_results if SEEDED_ID.fullmatch(r.get("worker_id") or ""))
    if linked:  # pushed people are all new: a link to a seeded worker is a false match
        statuses["linked to a seeded worker"] = linked
    flags: dict[str, int] = {}
    for visit in visits:
        for flag in filter(None, (visit.get("flags") or "").split(",")):
            flags[flag] = flags.get(flag, 0) + 1
    return statuses, flags


def measure(bench: Bench, n_records: int, repeat: int, scenario: str) -> tuple[list[object], list[object]]:
    """Pushes and raw inserts of ``n_records``, alternated; a wall-time row and a CPU-time row.

    In the ``empty`` scenario every push starts from a database holding only the accounts (the synced
    tables are emptied before each one), so repetitions measure the same thing; otherwise the records
    of earlier repetitions stay (a few hundred rows beside the seeded ones).
    """
    progress(f"{bench.kind}: {repeat} pushes of {n_records} records ({scenario})")
    bodies = [push_body(n_records) for _ in range(repeat)]
    meter = CpuMeter(bench)
    pushes, raws, templates = [], [], None
    for index, body in enumerate(bodies):
        if scenario == "empty":
            clear_records(bench.engine)
        last_pulled_at = clock_value(bench.engine)
        sample = meter.measure(lambda body=body, lpa=last_pulled_at: push(bench, body, lpa))
        statuses, flags = check_results(sample.result, n_records)
        if index == 0 and (set(statuses) - {"verified"} or flags):
            progress(f"{bench.kind}: first push: enrolments {statuses}, visit flags {flags or 'none'}")
        pushes.append(sample)
        if templates is None:
            templates = stored_rows(bench.engine, body)
        raws.append(raw_insert(bench, templates, f"r{index}"))
        remove_raw(bench, templates, f"r{index}")

    def p50(samples, attr):
        return percentile([getattr(x, attr) for x in samples], 50)

    push_rate, raw_rate = n_records / p50(pushes, "wall"), n_records / p50(raws, "wall")
    push_cpu_rate, raw_cpu_rate = n_records / p50(pushes, "cpu"), n_records / p50(raws, "cpu")
    label = [bench.kind, scenario, f"{n_records:,}"]
    wall_row = [
        *label,
        repeat,
        f"{p50(pushes, 'wall') * 1000:,.1f}",
        f"{percentile([x.wall for x in pushes], 95) * 1000:,.1f}",
        fmt_int(push_rate),
        fmt_int(raw_rate),
        f"{push_rate / raw_rate:.1%}",
    ]
    sqlite = bench.kind == "sqlite"
    cpu_row = [
        *label,
        f"{p50(pushes, 'app_cpu') * 1000:,.1f}",
        "(in app)" if sqlite else f"{p50(pushes, 'db_cpu') * 1000:,.1f}",
        fmt_int(push_cpu_rate),
        fmt_int(raw_cpu_rate),
        f"{push_cpu_rate / raw_cpu_rate:.1%}",
    ]
    return wall_row, cpu_row


def main() -> None:
    args = parse_args(__doc__.splitlines()[0], configure)
    plan = QUICK if args.quick else FULL
    sizes_of_workers = [plan["workers"]] if args.workers is None else [w for w in args.workers if w > 0]
    workers_on = {d.strip() for d in args.workers_on.split(",")}
    urls = database_urls(args)
    rows, cpu_rows = [], []
    for kind, url in urls.items():
        bench = setup_bench(kind, url, args.transport)
        try:
            push(bench, push_body(100), clock_value(bench.engine))  # warm-up: imports, statement caches, pool
            if args.profile:
                existing = "empty database"
                if args.workers and args.workers[0]:  # only when asked for explicitly
                    progress(f"{kind}: seeding {args.workers[0]:,} workers")
                    seed_workers(bench, args.workers[0])
                    existing = f"{args.workers[0]:,} workers"
                size = args.profile_records
                body = push_body(size)
                profile(
                    f"push of {size} records on {kind} ({existing})",
                    lambda b=bench, body=body: push(b, body, clock_value(b.engine)),
                    clock=args.profile_clock,
                )
                continue
            sizes = () if args.workers_only else plan["sizes"]
            runs = [(size, args.repeat or plan["repeat"][size], "empty") for size in sizes]
            if kind in workers_on:
                repeat = args.repeat or plan["workers_repeat"]
                runs += [(plan["workers_size"], repeat, f"{workers:,} workers") for workers in sizes_of_workers]
            for size, repeat, scenario in runs:
                clear_records(bench.engine)
                if scenario != "empty":
                    workers = int(scenario.split()[0].replace(",", ""))
                    progress(f"{kind}: seeding {workers:,} workers")
                    progress(f"{kind}: seeded in {seed_workers(bench, workers, args.checkpoint):.1f} s")
                wall_row, cpu_row = measure(bench, size, repeat, scenario)
                rows.append(wall_row)
                cpu_rows.append(cpu_row)
        finally:
            bench.close()
    if not rows:
        return
    label = ["database", "existing data", "records/push"]
    print_table(
        f"Push through HTTP ({TRANSPORTS[args.transport]}): wall time",
        [*label, "reps", "p50 ms", "p95 ms", "push rec/s", "raw insert rec/s", "push/raw"],
        rows,
    )
    print(
        "\npush rec/s = records / p50 latency of one push (half enrolments, each creating a worker, half "
        "visits); raw insert rec/s = the same enrolment and visit rows by SQLAlchemy Core insert executemany, "
        "one transaction (p50); push/raw = their ratio."
    )
    print_table(
        "Push: CPU time (what a push costs; steady when the machine is shared)",
        [*label, "app CPU ms", "DB CPU ms", "push rec/s", "raw insert rec/s", "push/raw"],
        cpu_rows,
    )
    print(
        "\np50 CPU time per push of the app's Python process and of the PostgreSQL backends serving it "
        "(SQLite runs inside the app); rec/s = records / (app + DB CPU), for the raw insert likewise "
        "(client + backend). On an idle machine latency is close to this CPU time plus commit flushes."
    )
    print(f"\nMachine: {machine_note(urls)}.")


if __name__ == "__main__":
    main()
