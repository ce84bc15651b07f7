"""Payment CSV import: time and peak memory of ``POST /api/v1/payments/import`` with a 1,000,000-line file.

Each scenario runs in a fresh child process (peak RSS, ``resource.getrusage``, is a per-process high-water
mark): a new SQLite database in a temporary directory, the app (``server.create_app``), an admin logged
in; the CSV is written to the temporary directory line by line and posted from the file through Werkzeug's
test client (the whole WSGI path in-process: auth, body decoding, the upload runner, the engine, commit).

- ``rejected``: the probe's file, 8-byte lines that are all wrong (every field of every line refused):
  what the error list costs. 1,000,000 lines is 8 MB, under the 20 MB default body limit.
- ``rejected, multipart``: the same as a multipart form file (Werkzeug spools it to disk).
- ``stored``: valid lines, 200 months each for ``lines / 200`` seeded workers, all imported: what the
  batches, the upserts and the final assessment cost. 1,000,000 such lines are 42 MB, so this scenario
  raises ``MAX_BODY_BYTES`` to 64 MB (the default 20 MB limit would answer 413).

``RSS before`` is the child's resident memory just before the request (app, database, login); ``peak RSS``
is ``resource.getrusage(RUSAGE_SELF).ru_maxrss`` after the request, the high-water mark having been reset
(``/proc/self/clear_refs``) just before it: the request's own peak, setup excluded.

    .venv/bin/python bench/csv_import.py [--lines 1000000] [--scenarios rejected,multipart,stored]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

HEADER = "nik,contribution_month,amount,paid_at\n"
MONTHS_PER_WORKER = 200
SCENARIOS = {
    "rejected": "8-byte lines, all refused (raw body)",
    "multipart": "8-byte lines, all refused (multipart file)",
    "stored": f"valid lines, {MONTHS_PER_WORKER} months per seeded worker (raw body, 64 MB limit)",
}


def months(n: int) -> list[str]:
    """``n`` consecutive contribution months from 2000-01."""
    return [f"{2000 + m // 12:04d}-{m % 12 + 1:02d}" for m in range(n)]


def nik(serial: int) -> str:
    return f"321501120385{serial:04d}" if serial < 10_000 else f"3215{serial:012d}"


def write_csv(path: Path, scenario: str, lines: int) -> None:
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write(HEADER)
        if scenario in ("rejected", "multipart"):
            for _ in range(lines):
                out.write("1,1,1,1\n")  # NIK, month, amount and paid_at all wrong
            return
        workers = -(-lines // MONTHS_PER_WORKER)
        written = 0
        for month in months(MONTHS_PER_WORKER):
            paid = f"{month}-10"
            for serial in range(workers):
                if written == lines:
                    return
                out.write(f"{nik(serial)},{month},16800,{paid}\n")
                written += 1


def seed_workers(engine, pii, count: int) -> None:
    from sqlalchemy import insert
    from sqlalchemy.orm import Session

    from sync.models import Worker, new_id

    enrolled = int(dt.datetime(2000, 1, 3, tzinfo=dt.UTC).timestamp() * 1000)
    rows = [
        {
            "id": new_id(),
            "server_created_at": 1,
            "last_modified": 1,
            "nik_index": pii.blind_index("nik", nik(serial)),
            "nik_masked": nik(serial)[:6] + "********" + nik(serial)[-2:],
            "full_name": f"Pekerja {serial}",
            "membership_status": "active",
            "enrolled_at": enrolled,
        }
        for serial in range(count)
    ]
    with Session(engine) as session, session.begin():
        for start in range(0, len(rows), 5_000):
            session.execute(insert(Worker), rows[start : start + 5_000])


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def child(scenario: str, lines: int, workdir: Path) -> dict:
    """One scenario in this process; returns its measurements."""
    os.environ.setdefault("JANGKAU_INSTANCE_DIR", str(workdir))
    from sqlalchemy.orm import Session
    from support.database import fresh_database
    from support.harness import app_config, logging_quiet

    from server import create_app
    from sync.pii import PiiProtector
    from tests import factories

    url = f"sqlite:///{workdir / 'bench.db'}"
    engine = fresh_database(url)
    keys = PiiProtector.generate_config()
    pii = PiiProtector.from_config(keys["JANGKAU_PII_KEYS"], keys["JANGKAU_PII_INDEX_KEY"])
    config = app_config(url, keys)
    if scenario == "stored":
        config["MAX_BODY_BYTES"] = 64 * 1024 * 1024
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        app = create_app(config)
    logging_quiet()
    with Session(engine, expire_on_commit=False) as session:
        world = factories.make_world(session)
    if scenario == "stored":
        seed_workers(engine, pii, -(-lines // MONTHS_PER_WORKER))
    path = workdir / "payments.csv"
    write_csv(path, scenario, lines)
    api = factories.ApiHelper(app.test_client(), world)
    headers = api.headers(world.admin, "bench-web")
    reset_peak = Path("/proc/self/clear_refs")
    if reset_peak.exists():
        reset_peak.write_text("5")  # Linux: the high-water mark restarts from the current RSS
    before = rss_mb()
    with path.open("rb") as upload:
        started = time.perf_counter()
        if scenario == "multipart":
            response = api.client.post(
                "/api/v1/payments/import",
                data={"file": (upload, "payments.csv", "text/csv")},
                content_type="multipart/form-data",
                headers=headers,
            )
        else:
            headers |= {"Content-Type": "text/csv", "Content-Length": str(path.stat().st_size)}
            response = api.client.post("/api/v1/payments/import", input_stream=upload, headers=headers)
        seconds = time.perf_counter() - started
    body = response.get_json(silent=True) or {}
    return {
        "status": response.status_code,
        "lines": body.get("lines"),
        "imported": body.get("imported"),
        "rejected": body.get("rejected"),
        "errors_listed": len(body.get("errors") or []),
        "response_kb": len(response.get_data()) / 1024,
        "file_mb": path.stat().st_size / 1024 / 1024,
        "seconds": seconds,
        "rss_before_mb": before,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000, help="data lines per file (default %(default)s)")
    parser.add_argument("--scenarios", default=",".join(SCENARIOS), help="comma list of %(default)s")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        with tempfile.TemporaryDirectory(prefix="jangkau-csv-bench-") as workdir:
            print(json.dumps(child(args.child, args.lines, Path(workdir))))
        return
    # The parent imports nothing of the app until its children are done: a child's ru_maxrss starts from the
    # high-water mark of the process it was forked from.
    results = {}
    for scenario in [s.strip() for s in args.scenarios.split(",") if s.strip()]:
        if scenario not in SCENARIOS:
            parser.error(f"unknown scenario {scenario!r}")
        print(f"  .. {scenario}: {args.lines:,} lines", file=sys.stderr, flush=True)
        out = subprocess.run(
            [sys.executable, __file__, "--child", scenario, "--lines", str(args.lines)],
            check=True,
            capture_output=True,
            text=True,
            cwd=REPO,
        )
        results[scenario] = json.loads(out.stdout.strip().splitlines()[-1])
    from support.report import machine_note, print_table

    rows = []
    for scenario, r in results.items():
        rows.append(
            [
                scenario,
                r["status"],
                f"{r['lines'] or 0:,}",
                f"{r['imported'] or 0:,}",
                f"{r['rejected'] or 0:,}",
                f"{r['file_mb']:.1f}",
                f"{r['seconds']:.1f}",
                f"{(r['lines'] or 0) / r['seconds']:,.0f}",
                f"{r['response_kb']:.1f}",
                f"{r['rss_before_mb']:.0f}",
                f"{r['peak_rss_mb']:.0f}",
            ]
        )
    print_table(
        "POST /api/v1/payments/import on SQLite, Werkzeug test client",
        ["scenario", "status", "lines", "imported", "rejected", "file MB", "seconds", "lines/s", "response KB",
         "RSS before MB", "peak RSS MB"],
        rows,
    )  # fmt: skip
    print("\n" + "; ".join(f"{name}: {text}" for name, text in SCENARIOS.items() if name in results))
    print(machine_note({"sqlite": ""}))


if __name__ == "__main__":
    main()
