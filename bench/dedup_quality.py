"""Duplicate-matching quality: push synthetic enrolments through ``sync.protocol.push`` and score the result.

Prints pairwise precision, recall and F1 at the link threshold and with open review candidates
counted as links, the review-queue size, and Splink's figures on the same records when it is
installed (``pip install -e '.[bench]'``). ``--fit`` first fits the Fellegi–Sunter m/u probabilities
and thresholds on a different seed's labelled pairs and writes ``sync/enrollments/duplicates/weights.json``.

    .venv/bin/python bench/dedup_quality.py --n 20000 [--fit] [--db postgresql://…] [--no-splink]
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import select  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from bench.dedup_data import generate  # noqa: E402
from sync.accounts.principal import Principal  # noqa: E402
from sync.db import create_schema, make_engine  # noqa: E402
from sync.enrollments.duplicates.compare import FIELDS, LEVELS, compare  # noqa: E402
from sync.enrollments.duplicates.keys import blocking_keys  # noqa: E402
from sync.enrollments.duplicates.matcher import person_of  # noqa: E402
from sync.enrollments.duplicates.model import DedupConfig, decide  # noqa: E402
from sync.enrollments.duplicates.normalize import nik_digits, phone_e164  # noqa: E402
from sync.models import Base, Enrollment  # noqa: E402
from sync.models.dedup import DuplicateCandidate  # noqa: E402
from sync.pii import PiiProtector  # noqa: E402
from sync.protocol.push import push  # noqa: E402
from tests.factories import changes, make_branch, make_user  # noqa: E402

WEIGHTS = Path(__file__).resolve().parents[1] / "sync" / "enrollments" / "duplicates" / "weights.json"
TODAY = __import__("datetime").date(2025, 6, 1)


def _pii() -> PiiProtector:
    keys = PiiProtector.generate_config()
    return PiiProtector.from_config(keys["JANGKAU_PII_KEYS"], keys["JANGKAU_PII_INDEX_KEY"])


def blocked_pairs(records: list[dict], pii: PiiProtector):
    """Every pair sharing a blocking key, compared, with its truth (offline, for fitting)."""
    people = []
    index = defaultdict(list)
    for i, r in enumerate(records):
        p = person_of(
            nik=nik_digits(r["nik"]),
            full_name=r["full_name"],
            birth_date=r["birth_date"],
            sex=r["sex"],
            phone_index=pii.blind_index("phone", phone_e164(r["phone"])),
            village=r["village"],
        )
        people.append(p)
        for kind, value in blocking_keys(p, pii).items():
            if value:
                index[(kind, value)].append(i)
    seen = set()
    for members in index.values():
        for i, j in itertools.combinations(members, 2):
            if (i, j) not in seen:
                seen.add((i, j))
                yield compare(people[i], people[j]), records[i]["_person"] == records[j]["_person"]


def fit(n: int, seed: int) -> DedupConfig:
    """m/u per level from labelled blocked pairs (Laplace-smoothed), then the thresholds."""
    pii = _pii()
    pairs = list(blocked_pairs(generate(n, seed), pii))
    counts = {True: {f: Counter() for f in FIELDS}, False: {f: Counter() for f in FIELDS}}
    for cmp, same in pairs:
        for f, level in cmp.levels.items():
            if level is not None:
                counts[same][f][level] += 1
    m, u = {}, {}
    for f in FIELDS:
        for same, out in ((True, m), (False, u)):
            total = sum(counts[same][f].values()) + LEVELS[f]
            out[f] = [round((counts[same][f][k] + 1) / total, 6) for k in range(LEVELS[f])]
    matches = sum(1 for _, same in pairs if same)
    prior = round(matches / len(pairs), 6)
    config = DedupConfig(m=m, u=u, prior=prior, link_threshold=0.5, review_threshold=0.5)
    scored = sorted(((decide(c, config), same) for c, same in pairs), key=lambda v: -v[0].probability)
    # Link threshold: the lowest probability above which pair precision stays >= 0.999.
    link, tp, fp = 0.99999, 0, 0
    for verdict, same in scored:
        if verdict.blockers or verdict.probability < 0.5:
            continue
        tp, fp = tp + same, fp + (not same)
        if tp / (tp + fp) >= 0.999:
            link = verdict.probability
    link = max(0.9, min(link, 0.99999))
    print(f"fit: {len(pairs)} blocked pairs, {matches} true; prior {prior}; link threshold {link:.6f}")
    return DedupConfig(m=m, u=u, prior=prior, link_threshold=round(link, 6), review_threshold=0.2)


def push_all(records: list[dict], url: str, batch: int) -> tuple[float, Session]:
    """Push the records as their agents, ``batch`` per push, in capture order."""
    engine = make_engine(url)
    Base.metadata.drop_all(engine)
    create_schema(engine)
    session = Session(engine, expire_on_commit=False)
    branch = make_branch(session, "KCU-BENCH")
    session.flush()
    agents = [make_user(session, f"bench.agent{i}", "agent", branch) for i in range(20)]
    session.commit()
    principals = [Principal(a.id, a.username, "agent", branch.id, "bench-device") for a in agents]
    pii = _pii()
    started = time.perf_counter()
    pending: dict[int, list[dict]] = defaultdict(list)

    def flush(agent: int) -> None:
        body = changes(enrollments={"created": pending.pop(agent)})
        push(session, principal=principals[agent], changes=body, last_pulled_at=10**13, pii=pii, today=TODAY)
        session.commit()

    for r in records:
        record = {k: v for k, v in r.items() if not k.startswith("_")}
        pending[r["_agent"]].append(record)
        if len(pending[r["_agent"]]) >= batch:
            flush(r["_agent"])
    for agent in list(pending):
        flush(agent)
    return time.perf_counter() - started, session


def pair_set(groups: dict) -> set[tuple[str, str]]:
    out = set()
    for members in groups.values():
        out.update(itertools.combinations(sorted(members), 2))
    return out


def scores(predicted: set, truth: set) -> tuple[float, float, float]:
    tp = len(predicted & truth)
    p = tp / len(predicted) if predicted else 1.0
    r = tp / len(truth) if truth else 1.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def evaluate(records: list[dict], session: Session) -> dict:
    truth_groups = defaultdict(list)
    for r in records:
        truth_groups[r["_person"]].append(r["id"])
    truth = pair_set(truth_groups)
    rows = session.execute(select(Enrollment.id, Enrollment.worker_id, Enrollment.status)).all()
    linked = defaultdict(list)
    worker_of = {}
    for eid, wid, _status in rows:
        linked[wid or f"single:{eid}"].append(eid)
        worker_of[eid] = wid
    parent: dict[str, str] = {}

    def find(x):
        while parent.get(x, x) != x:
            x = parent[x]
        return x

    open_ = session.execute(
        select(DuplicateCandidate.worker_id, DuplicateCandidate.other_worker_id).where(
            DuplicateCandidate.status == "open"
        )
    ).all()
    for a, b in open_:
        parent[find(a)] = find(b)
    with_review = defaultdict(list)
    for eid, wid in worker_of.items():
        with_review[find(wid) if wid else f"single:{eid}"].append(eid)
    statuses = Counter(s for _, _, s in rows)
    return {
        "link": scores(pair_set(linked), truth),
        "review": scores(pair_set(with_review), truth),
        "queue": len(open_),
        "true_pairs": len(truth),
        "statuses": dict(statuses),
    }


def splink_figures(records: list[dict]) -> dict | None:
    """Splink (DuckDB) on the same records, blocking like ours, EM-trained; None if unavailable."""
    try:
        import duckdb
        import pyarrow as pa
        import splink.comparison_library as cl
        from splink import DuckDBAPI, Linker, SettingsCreator, block_on
    except ImportError:
        return None
    from sync.enrollments.duplicates.normalize import name_tokens, village_key

    frame = pa.Table.from_pylist(
        [
            {
                "unique_id": r["id"],
                "nik": nik_digits(r["nik"]) or None,
                "nik_head": (nik_digits(r["nik"]) or "")[:8] or None,
                "nik_tail": (nik_digits(r["nik"]) or "")[-8:] or None,
                "name": " ".join(name_tokens(r["full_name"])) or None,
                "birth_date": r["birth_date"],
                "sex": r["sex"],
                "phone": phone_e164(r["phone"]),
                "village": village_key(r["village"]) or None,
            }
            for r in records
        ]
    )
    settings = SettingsCreator(
        link_type="dedupe_only",
        comparisons=[
            cl.DamerauLevenshteinAtThresholds("nik", [1, 2]),
            cl.JaroWinklerAtThresholds("name", [0.92, 0.85, 0.7]),
            cl.DamerauLevenshteinAtThresholds("birth_date", [1, 2]),
            cl.ExactMatch("sex"),
            cl.ExactMatch("phone"),
            cl.JaroWinklerAtThresholds("village", [0.88]),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("nik"),
            block_on("nik_head"),
            block_on("nik_tail"),
            block_on("phone"),
            block_on("birth_date", "village"),
            block_on("name", "birth_date"),
        ],
    )
    import logging

    logging.getLogger("splink").setLevel(logging.WARNING)
    started = time.perf_counter()
    con = duckdb.connect()
    con.register("records_arrow", frame)
    con.execute("CREATE TABLE records AS SELECT * FROM records_arrow")
    db_api = DuckDBAPI(connection=con)
    linker = Linker(db_api.register("records"), settings)
    linker.training.estimate_u_using_random_sampling(max_pairs=2e6)
    for rule in (block_on("nik"), block_on("birth_date")):
        linker.training.estimate_parameters_using_expectation_maximisation(rule)
    predictions = linker.inference.predict(threshold_match_probability=0.5)
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(predictions, 0.995).as_record_list()
    elapsed = time.perf_counter() - started
    truth_groups = defaultdict(list)
    for r in records:
        truth_groups[r["_person"]].append(r["id"])
    groups = defaultdict(list)
    for row in clusters:
        groups[row["cluster_id"]].append(row["unique_id"])
    return {"link": scores(pair_set(groups), pair_set(truth_groups)), "seconds": elapsed}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--fit", action="store_true", help="refit weights.json on seed 7 first")
    parser.add_argument("--fit-n", type=int, default=20000)
    parser.add_argument("--db", default="sqlite:////tmp/jangkau-dedup-quality.db")
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--no-splink", action="store_true")
    args = parser.parse_args()
    if args.fit:
        config = fit(args.fit_n, seed=7)
        WEIGHTS.write_text(json.dumps(config.to_dict(), indent=2) + "\n")
        from sync.enrollments.duplicates import model

        model._load.cache_clear()
    records = generate(args.n, args.seed)
    seconds, session = push_all(records, args.db, args.batch)
    result = evaluate(records, session)
    print(f"\n{args.n} enrolments, {result['true_pairs']} true duplicate pairs, pushed in {seconds:.1f} s")
    print(f"statuses: {result['statuses']}; review queue: {result['queue']} open candidates\n")
    print(f"| {'system':<34} | precision | recall |    F1  |")
    print(f"|{'-' * 36}|-----------|--------|--------|")
    for label, key in (("Jangkau, links only", "link"), ("Jangkau, links + review candidates", "review")):
        p, r, f = result[key]
        print(f"| {label:<34} |   {p:.4f}  | {r:.4f} | {f:.4f} |")
    if not args.no_splink:
        figures = splink_figures(records)
        if figures is None:
            print("| Splink                             | not installed (pip install -e '.[bench]')  |")
        else:
            p, r, f = figures["link"]
            label = f"Splink 0.995 ({figures['seconds']:.0f} s)"
            print(f"| {label:<34} |   {p:.4f}  | {r:.4f} | {f:.4f} |")
    if math.isnan(result["link"][2]):
        sys.exit(1)


if __name__ == "__main__":
    main()
