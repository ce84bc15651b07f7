"""Per-record matching time as the workers table grows (10k → 200k), on PostgreSQL by default.

Workers are bulk-loaded with their blocking keys; at each size a probe push of enrolments (a third of
them new enrolments of people already in the table, with typos) goes through ``sync.protocol.push`` and is
rolled back, so every size sees the same probes. Prints a table; no assertions.

    .venv/bin/python bench/dedup_scale.py [--db postgresql+psycopg://…] [--sizes 10000,50000,200000]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import insert  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from bench.dedup_data import generate  # noqa: E402
from bench.dedup_quality import TODAY, _pii  # noqa: E402
from sync.accounts.principal import Principal  # noqa: E402
from sync.db import create_schema, make_engine  # noqa: E402
from sync.enrollments.duplicates.keys import blocking_keys, worker_key_columns  # noqa: E402
from sync.enrollments.duplicates.matcher import person_of  # noqa: E402
from sync.enrollments.duplicates.normalize import clear_caches, nik_digits, phone_e164  # noqa: E402
from sync.models import Base, Worker  # noqa: E402
from sync.protocol.push import push  # noqa: E402
from tests.factories import changes, make_branch, make_user  # noqa: E402


def worker_rows(records, pii, start: int):
    for i, r in enumerate(records):
        wid = f"bw{start + i:010d}"
        nik = nik_digits(r["nik"])
        phone = phone_e164(r["phone"])
        person = person_of(
            nik=nik,
            full_name=r["full_name"],
            birth_date=r["birth_date"],
            sex=r["sex"],
            phone_index=pii.blind_index("phone", phone),
            village=r["village"],
        )
        yield {
            "id": wid, "server_created_at": 1, "last_modified": 1, "deleted_at": None, "created_by_device": None,
            "full_name": r["full_name"], "nik_encrypted": pii.encrypt(nik or None, row_id=wid), "nik_masked": None,
            "birth_date": r["birth_date"], "sex": r["sex"], "phone_encrypted": None, "phone_masked": None,
            "occupation": r["occupation"], "village": r["village"], "membership_status": "registered",
            "registry_status": None, "enrolled_by_agent_id": None, "enrolled_at": 1,
            **worker_key_columns(blocking_keys(person, pii)),
        }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="postgresql+psycopg://postgres@127.0.0.1/bench_h4")
    parser.add_argument("--sizes", default="10000,50000,100000,200000")
    parser.add_argument("--probe", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    pii = _pii()
    engine = make_engine(args.db)
    Base.metadata.drop_all(engine)
    create_schema(engine)
    session = Session(engine, expire_on_commit=False)
    branch = make_branch(session, "KCU-SCALE")
    session.flush()
    agent = make_user(session, "scale.agent", "agent", branch)
    session.commit()
    principal = Principal(agent.id, agent.username, "agent", branch.id, "scale-device")
    population = generate(int(max(sizes) * 1.45) + args.probe * 3, seed=11)
    seen: dict[int, dict] = {}
    distinct = []
    for r in population:
        if r["_person"] not in seen:
            seen[r["_person"]] = r
            distinct.append(r)
    base, extra = distinct[: max(sizes)], distinct[max(sizes) :]
    repeats = [r for r in population if seen[r["_person"]] is not r and seen[r["_person"]] in base[: sizes[0]]]
    probes = (repeats[: args.probe // 3] + extra)[: args.probe]
    loaded = 0
    print(f"| workers | probe records | ms/record (median of {args.repeat}) | vs first |")
    print("|--------:|--------------:|---------------------:|---------:|")
    first = None
    for size in sizes:
        rows = list(worker_rows(base[loaded:size], pii, loaded))
        for start in range(0, len(rows), 5000):
            session.execute(insert(Worker), rows[start : start + 5000])
        session.commit()
        loaded = size
        if engine.dialect.name == "postgresql":
            session.execute(__import__("sqlalchemy").text("ANALYZE workers"))
            session.commit()
        timings = []
        for k in range(args.repeat):
            batch = [{kk: v for kk, v in r.items() if not kk.startswith("_")} | {"id": f"p{size}x{k}x{i}"}
                     for i, r in enumerate(probes)]  # fmt: skip
            clear_caches()  # cold: no name normalised by seeding or by the previous repetition
            started = time.perf_counter()
            push(session, principal=principal, changes=changes(enrollments={"created": batch}),
                 last_pulled_at=10**13, pii=pii, today=TODAY)  # fmt: skip
            timings.append((time.perf_counter() - started) * 1000 / len(batch))
            session.rollback()
        ms = statistics.median(timings)
        first = first or ms
        print(f"| {size:>7} | {len(probes):>13} | {ms:>20.3f} | {ms / first:>7.2f}x |")


if __name__ == "__main__":
    main()
