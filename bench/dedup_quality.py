"""Duplicate-matching quality through the real push: synthetic enrolments pushed by three agents, then scored.

Each data set (``bench/dedup_data.py`` and ``bench/dedup_noisy_data.py``, held-out seeds: the model was
trained and its thresholds chosen on other seeds by ``bench/dedup_fit.py``) is shuffled and dealt to
three agents, who push it in batches of random size (1 to ``--batch``) through ``sync.protocol.push``,
in interleaved order, each record with its own id as a phone would send it. Then the sweep runs over
everybody (``sync.enrollments.duplicates.sweep``, as the hourly job would). Scored twice, after the pushes
and after the sweep: pairwise precision, recall and F1 of the people (``worker_id``) at the link
threshold; recall with open review candidates joined in; the review queue per 1,000 enrolments; and
whether the people after the sweep are exactly the ones ``batch_clusters`` makes from the whole set at
once (where a fact keeps twins apart, a record resembling both stays with the twin it met first, so a
few people may differ). Enrolments that fail validation (a missing or broken NIK, no name) make no person of their own
(docs/duplicates.md): they count as singletons unless matched to somebody, so ``reachable`` says which
share of the true pairs belongs to people with at least one valid record (the most any matcher could link
before agents correct their records), and ``recall, valid pairs`` is the recall over pairs of two valid
records (the matcher's own figure).

Never public record-linkage data sets: the figure that counts is measured on data this project has not
seen.

    .venv/bin/python bench/dedup_quality.py --databases sqlite            # the three held-out sets
    .venv/bin/python bench/dedup_quality.py --n 2000 --quick --databases sqlite
"""

from __future__ import annotations

import itertools
import random
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import select  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from bench.dedup_fit import HOLDOUT, Source  # noqa: E402
from bench.support.args import database_urls, parse_args  # noqa: E402
from bench.support.database import fresh_database  # noqa: E402
from bench.support.report import machine_note, print_table, progress  # noqa: E402
from sync.accounts.principal import Principal  # noqa: E402
from sync.enrollments.duplicates.keys import key_set  # noqa: E402
from sync.enrollments.duplicates.matcher import stored_person  # noqa: E402
from sync.enrollments.duplicates.model import shipped_config  # noqa: E402
from sync.enrollments.duplicates.sweep import batch_clusters, sweep  # noqa: E402
from sync.models import Enrollment  # noqa: E402
from sync.models.dedup import DuplicateCandidate  # noqa: E402
from sync.pii import PiiProtector  # noqa: E402
from sync.protocol.clock import current_stamp  # noqa: E402
from sync.protocol.push import push  # noqa: E402
from sync.protocol.statuses import GRANTING  # noqa: E402
from tests.factories import changes, make_branch, make_user  # noqa: E402

AGENTS = 3
TODAY = __import__("datetime").date(2026, 6, 1)


@dataclass
class Score:
    precision: float
    recall: float
    f1: float
    review_recall: float
    queue_per_1000: float
    valid_recall: float  # recall over the true pairs of two valid records


def _pii() -> PiiProtector:
    keys = PiiProtector.generate_config()
    return PiiProtector.from_config(keys["JANGKAU_PII_KEYS"], keys["JANGKAU_PII_INDEX_KEY"])


def deal(records: list[dict], seed: int, batch: int) -> list[tuple[int, list[dict]]]:
    """The records shuffled, dealt to three agents, cut into pushes of 1..``batch``, pushes interleaved."""
    rng = random.Random(seed)
    shuffled = records[:]
    rng.shuffle(shuffled)
    queues: dict[int, list[dict]] = defaultdict(list)
    for record in shuffled:
        queues[rng.randrange(AGENTS)].append({k: v for k, v in record.items() if not k.startswith("_")})
    pushes: list[tuple[int, list[dict]]] = []
    cursors = dict.fromkeys(queues, 0)
    while cursors:
        agent = rng.choice(sorted(cursors))
        size = rng.randint(1, batch)
        start = cursors[agent]
        pushes.append((agent, queues[agent][start : start + size]))
        cursors[agent] = start + size
        if cursors[agent] >= len(queues[agent]):
            del cursors[agent]
    return pushes


def push_all(session: Session, pii: PiiProtector, pushes: list[tuple[int, list[dict]]]) -> float:
    branch = make_branch(session, "KCU-BENCH")
    session.flush()
    agents = [make_user(session, f"bench.agent{i}", "agent", branch) for i in range(AGENTS)]
    session.commit()
    principals = [Principal(a.id, a.username, "agent", branch.id, f"bench-phone-{i}") for i, a in enumerate(agents)]
    started = time.perf_counter()
    for agent, batch in pushes:
        body = changes(enrollments={"created": batch})
        push(
            session,
            principal=principals[agent],
            changes=body,
            last_pulled_at=current_stamp(session),
            pii=pii,
            today=TODAY,
        )
        session.commit()
    return time.perf_counter() - started


def _pairs(groups) -> set[tuple[str, str]]:
    out: set[tuple[str, str]] = set()
    for members in groups:
        out.update(itertools.combinations(sorted(members), 2))
    return out


def score(session: Session, truth: set[tuple[str, str]], n: int) -> tuple[Score, dict[str, frozenset[str]]]:
    rows = session.execute(select(Enrollment.id, Enrollment.worker_id, Enrollment.status)).all()
    people: dict[str, set[str]] = defaultdict(set)
    for eid, wid, _ in rows:
        people[wid or f"single:{eid}"].add(eid)
    valid = {eid for eid, _, status in rows if status in GRANTING}
    valid_truth = {(a, b) for a, b in truth if a in valid and b in valid}
    predicted = _pairs(people.values())
    tp = len(predicted & truth)
    precision = tp / len(predicted) if predicted else 1.0
    recall = tp / len(truth) if truth else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.get(x, x) != x:
            x = parent[x]
        return x

    queue = session.execute(
        select(DuplicateCandidate.worker_id, DuplicateCandidate.other_worker_id).where(
            DuplicateCandidate.status == "open"
        )
    ).all()
    for a, b in queue:
        parent[find(a)] = find(b)
    joined: dict[str, set[str]] = defaultdict(set)
    for key, members in people.items():
        joined[find(key)] |= members
    review_recall = len(_pairs(joined.values()) & truth) / len(truth) if truth else 1.0
    groups = {wid: frozenset(m) for wid, m in people.items()}
    valid_recall = len(predicted & valid_truth) / len(valid_truth) if valid_truth else 1.0
    return Score(precision, recall, f1, review_recall, 1000 * len(queue) / n, valid_recall), groups


def reachable(session: Session, truth_groups: dict[object, list[str]], truth: set[tuple[str, str]]) -> float:
    """The share of true pairs whose person has a valid record: invalid records make nobody, so the rest
    can only be found once an agent corrects one of them."""
    valid = {eid for eid, status in session.execute(select(Enrollment.id, Enrollment.status)) if status in GRANTING}
    found = _pairs(members for members in truth_groups.values() if valid & set(members))
    return len(found & truth) / len(truth) if truth else 1.0


def batch_reference(session: Session, pii: PiiProtector) -> set[frozenset[str]]:
    """The people ``batch_clusters`` makes from every stored enrolment at once."""
    from sync.enrollments.duplicates.matcher import person_columns

    rows = session.execute(select(Enrollment.id, Enrollment.status, *person_columns(Enrollment))).all()
    persons = {row.id: stored_person(row, pii) for row in rows}
    valid = {row.id for row in rows if row.status in GRANTING}
    return set(batch_clusters(persons, shipped_config(), lambda p: key_set(p, pii), valid=valid))


def run(source: Source, n: int, url: str, batch: int) -> list[list[str]]:
    records = source.records(n)
    truth_groups: dict[object, list[str]] = defaultdict(list)
    for r in records:
        truth_groups[r["_person"]].append(r["id"])
    truth = _pairs(truth_groups.values())
    engine = fresh_database(url)
    pii = _pii()
    with Session(engine, expire_on_commit=False) as session:
        progress(f"{source.label}: pushing {n} enrolments as {AGENTS} agents")
        seconds = push_all(session, pii, deal(records, source.seed, batch))
        statuses = Counter(s for (s,) in session.execute(select(Enrollment.status)))
        pushed, _ = score(session, truth, n)
        bound = reachable(session, truth_groups, truth)
        progress(f"{source.label}: sweeping")
        started = time.perf_counter()
        sweep(session, pii, shipped_config(), full=True)
        session.commit()
        sweep_seconds = time.perf_counter() - started
        swept, groups = score(session, truth, n)
        mine, batch = set(groups.values()), batch_reference(session, pii)
        differ = len(mine - batch)  # people the pushes and the sweep made otherwise than the batch
    engine.dispose()
    valid = sum(statuses[s] for s in GRANTING) / n
    batch_note = "yes" if not differ else f"{differ} of {len(mine):,} people differ"
    rows = []
    for stage, s in (("after the pushes", pushed), ("after the sweep", swept)):
        rows.append(
            [
                source.label,
                stage,
                f"{valid:.0%}",
                f"{bound:.4f}",
                f"{s.precision:.4f}",
                f"{s.recall:.4f}",
                f"{s.valid_recall:.4f}",
                f"{s.f1:.4f}",
                f"{s.review_recall:.4f}",
                f"{s.queue_per_1000:.1f}",
                f"{n / seconds:,.0f}" if stage == "after the pushes" else f"{sweep_seconds:.1f} s",
                batch_note if stage == "after the sweep" else "",
            ]
        )
    return rows


def main() -> None:
    def configure(parser):
        parser.add_argument("--n", type=int, default=5000, help="enrolments per data set")
        parser.add_argument("--batch", type=int, default=200, help="largest push (records)")

    args = parse_args(__doc__.splitlines()[0], configure)
    urls = database_urls(args)
    sets = HOLDOUT[:2] if args.quick else HOLDOUT
    for kind, url in urls.items():
        rows = [row for source in sets for row in run(source, args.n, url, args.batch)]
        print_table(
            f"Duplicate matching through push, {kind}, {args.n:,} enrolments per set, {AGENTS} agents",
            [
                "data set",
                "when",
                "valid",
                "reachable",
                "precision",
                "recall",
                "recall, valid pairs",
                "F1",
                "links + review recall",
                "review / 1000",
                "pushed rec/s · sweep",
                "= batch",
            ],
            rows,
        )
    print(f"\n{machine_note(urls)}")


if __name__ == "__main__":
    main()
