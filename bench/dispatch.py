"""Reminder dispatch throughput on PostgreSQL: reminders/s to a loopback gateway with 1, 2 and 3 scheduler
processes, and the time to clear a backlog of 100,000 due reminders.

    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1/bench .venv/bin/python bench/dispatch.py \\
        [--per-run 5000] [--backlog 100000]

The database is emptied and recreated. Every process is ``python -m server.scheduler`` (the real entry
point); the gateway counts deliveries by Idempotency-Key, so the table also reports replays (must be 0).
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from server.config import normalize_database_url  # noqa: E402
from sync.db import create_schema, make_engine, truncate_all  # noqa: E402
from sync.models import Base  # noqa: E402
from sync.models.outreach import Reminder  # noqa: E402
from sync.pii import PiiProtector  # noqa: E402
from sync.protocol.clock import now_ms  # noqa: E402
from tests.sync.reminder_gateway import SECRET, Gateway, seed_due_reminders  # noqa: E402


def run(engine, url: str, keys: dict, pii, processes: int, count: int, batch: int) -> dict:
    with Session(engine) as session, session.begin():
        truncate_all(session)
    with Session(engine) as session:
        seed_due_reminders(session, pii, count, due_at=now_ms() - 1000)
    instance = tempfile.mkdtemp(prefix="jangkau-bench-")
    with Gateway() as gateway:
        env = dict(os.environ) | keys
        env.update(
            {
                "DATABASE_URL": url,
                "JANGKAU_INSTANCE_DIR": instance,
                "JANGKAU_SECRET_KEY": "bench",
                "JANGKAU_REMINDER_CHANNEL": "webhook",
                "JANGKAU_REMINDER_WEBHOOK_URL": gateway.url,
                "JANGKAU_WEBHOOK_SECRET": SECRET,
                "JANGKAU_QUIET_HOURS": "off",
                "JANGKAU_REMINDER_BATCH_SIZE": str(batch),
                "PYTHONPATH": str(ROOT),
            }
        )
        started = time.perf_counter()
        procs = [
            subprocess.Popen(
                [sys.executable, "-m", "server.scheduler", "--interval", "0.5"],
                env=env,
                cwd=ROOT,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for _ in range(processes)
        ]
        try:
            while len(gateway.delivered) < count:
                if any(p.poll() is not None for p in procs):
                    raise SystemExit("a scheduler process died")
                time.sleep(0.05)
        finally:
            for p in procs:
                p.send_signal(signal.SIGTERM)
            for p in procs:
                p.wait(30)
        wall = time.perf_counter() - started
        sending = gateway.last_delivery - gateway.first_delivery
    with Session(engine) as session:
        sent = session.execute(select(func.count()).where(Reminder.status == "sent")).scalar_one()
    return {
        "processes": processes,
        "reminders": count,
        "rate": count / sending if sending else float("inf"),
        "sending_s": sending,
        "wall_s": wall,
        "replays": sum(gateway.replays.values()),
        "sent_rows": sent,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--per-run", type=int, default=5000, help="reminders per throughput run")
    parser.add_argument("--backlog", type=int, default=100_000, help="reminders in the backlog run (3 processes)")
    parser.add_argument("--batch", type=int, default=50, help="rows claimed per statement")
    args = parser.parse_args()
    url = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")
    if not url or not url.startswith("postgres"):
        raise SystemExit("set BENCH_DATABASE_URL to a PostgreSQL database that may be emptied")
    url = normalize_database_url(url)
    keys = PiiProtector.generate_config()
    pii = PiiProtector.from_config(keys["JANGKAU_PII_KEYS"], keys["JANGKAU_PII_INDEX_KEY"])
    engine = make_engine(url)
    Base.metadata.drop_all(engine)
    create_schema(engine)
    rows = [run(engine, url, keys, pii, n, args.per_run, args.batch) for n in (1, 2, 3)]
    rows.append(run(engine, url, keys, pii, 3, args.backlog, args.batch))
    print(f"\nReminder dispatch on PostgreSQL to a loopback gateway (batch {args.batch}, {os.cpu_count()} CPUs)\n")
    print("| scheduler processes | reminders | delivered/s | sending time | wall time (incl. start) | replays |")
    print("|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r['processes']} | {r['reminders']:,} | {r['rate']:,.0f} | {r['sending_s']:.1f} s "
            f"| {r['wall_s']:.1f} s | {r['replays']} |"
        )
    print(f"\nbacklog of {args.backlog:,} cleared by 3 processes in {rows[-1]['sending_s']:.1f} s of sending")
    engine.dispose()


if __name__ == "__main__":
    main()
