"""First-sync pull: one agent's whole replica in one ``GET /api/v1/sync/pull?last_pulled_at=null``.

The agent's records are created the way phones create them, by pushes through the API (so NIKs and
phones are really encrypted, every enrolment has its worker and the server schedules its follow-ups):
by default 5,000 enrolments and 5,000 visits, plus the same again for a second agent of the same branch,
which the pull must leave out. The pull goes through the app built by ``server.create_app``: Werkzeug's
test client by default (the whole WSGI stack in this process, no TCP socket), or ``--transport
gunicorn``. Latency is the wall time of the request, the response body included; CPU time of the app
and of its PostgreSQL backends is reported beside it.

    .venv/bin/python bench/sync_pull.py [--quick] [--databases sqlite,postgresql] [--database-url URL]
    .venv/bin/python bench/sync_pull.py --profile [--databases postgresql]
"""

from __future__ import annotations

import gzip
import json

from support.args import database_urls, parse_args
from support.database import analyze, clock_value
from support.harness import TRANSPORTS, Bench, pull, setup_bench
from support.measure import CpuMeter, percentile
from support.profiling import profile
from support.records import push_body
from support.report import fmt_int, machine_note, print_table, progress

TABLE_ORDER = ("enrollments", "visits", "follow_ups", "workers")
PUSH_SIZE = 5000  # the most a push may carry (docs/sync.md "Push")
FULL = {"records": 10_000, "background": 10_000, "repeat": 10}
QUICK = {"records": 10_000, "background": 0, "repeat": 3}


def configure(parser) -> None:
    parser.add_argument(
        "--records",
        type=int,
        default=None,
        help=f"enrolments + visits of the pulling agent (half each; default {FULL['records']:,})",
    )
    parser.add_argument(
        "--background",
        type=int,
        default=None,
        help=f"records of another agent that the pull must skip (default {FULL['background']:,}; --quick 0)",
    )


def seed(bench: Bench, records: int, *, agent: str) -> None:
    """Push ``records`` (half enrolments, half visits) as ``agent`` ("a" or "b"), 5,000 per push."""
    user = bench.world.agent_a if agent == "a" else bench.world.agent_b
    headers = bench.api.headers(user, f"bench-phone-{agent}")
    remaining = records
    while remaining > 0:
        size = min(PUSH_SIZE, remaining)
        response = bench.client.post(
            f"/api/v1/sync/push?last_pulled_at={clock_value(bench.engine)}",
            data=push_body(size),
            headers={**headers, "Content-Type": "application/json"},
        )
        if response.status_code != 200:
            raise RuntimeError(f"seeding push answered {response.status_code}: {response.get_data(as_text=True)[:300]}")
        remaining -= size


def count(body: dict) -> dict[str, int]:
    return {table: sum(len(v) for v in parts.values()) for table, parts in body["changes"].items()}


def measure(bench: Bench, repeat: int, expected: int) -> list[object]:
    progress(f"{bench.kind}: {repeat} first-sync pulls")
    meter = CpuMeter(bench)
    samples = [meter.measure(lambda: pull(bench, None)) for _ in range(repeat)]
    data = samples[-1].result.get_data()
    body = json.loads(data)
    counts = count(body)
    if counts["enrollments"] + counts["visits"] != expected:
        raise RuntimeError(f"the pull returned {counts}, expected {expected:,} enrolments and visits")
    if any(body["changes"][t]["updated"] or body["changes"][t]["deleted"] for t in body["changes"]):
        raise RuntimeError("a first sync must list everything under created")
    total = sum(counts.values())

    def p50(attr):
        return percentile([getattr(x, attr) for x in samples], 50)

    return [
        bench.kind,
        " / ".join(f"{counts.get(t, 0):,}" for t in TABLE_ORDER),
        f"{total:,}",
        f"{len(data) / 1e6:.1f} ({len(gzip.compress(data, 6)) / 1e6:.1f})",
        repeat,
        f"{p50('wall'):.3f}",
        f"{percentile([x.wall for x in samples], 95):.3f}",
        fmt_int(total / p50("wall")),
        f"{p50('app_cpu'):.3f}",
        "(in app)" if bench.kind == "sqlite" else f"{p50('db_cpu'):.3f}",
        fmt_int(total / p50("cpu")),
    ]


def main() -> None:
    args = parse_args(__doc__.splitlines()[0], configure)
    plan = QUICK if args.quick else FULL
    records = plan["records"] if args.records is None else args.records
    background = plan["background"] if args.background is None else args.background
    urls = database_urls(args)
    rows = []
    for kind, url in urls.items():
        bench = setup_bench(kind, url, args.transport)
        try:
            progress(f"{kind}: seeding {records:,} records of agent A and {background:,} of agent B by pushes")
            seed(bench, records, agent="a")
            seed(bench, background, agent="b")
            analyze(bench.engine)
            pull(bench, None)  # warm-up
            if args.profile:
                profile(
                    f"first-sync pull of {records:,} records on {kind}",
                    lambda b=bench: pull(b, None),
                    clock=args.profile_clock,
                )
                continue
            rows.append(measure(bench, args.repeat or plan["repeat"], records))
        finally:
            bench.close()
    if not rows:
        return
    headers = [
        "database",
        "enrolments / visits / follow-ups / workers",
        "records",
        "body MB (gzip)",
        "reps",
        "p50 s",
        "p95 s",
        "records/s",
        "app CPU s",
        "DB CPU s",
        "records/s by CPU",
    ]
    print_table(f"First-sync pull through HTTP ({TRANSPORTS[args.transport]})", headers, rows)
    print(
        f"\nOne agent's replica: {records:,} enrolments and visits pushed by it, the follow-ups the server "
        f"scheduled from them and their workers, among {background:,} records of another agent. records/s = "
        "every record returned / p50 latency; app and DB CPU s = p50 CPU time of the app's Python process and "
        "of the PostgreSQL backends serving it (SQLite runs inside the app); records/s by CPU = records / "
        "(app + DB CPU), steady when the machine is shared. The bench asks for no gzip; a phone sending "
        "Accept-Encoding: gzip gets the body compressed (gzip size above)."
    )
    print(f"\nMachine: {machine_note(urls)}.")


if __name__ == "__main__":
    main()
