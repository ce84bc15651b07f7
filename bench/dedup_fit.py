"""The shipped duplicate model: trained on both synthetic generators, thresholds chosen, weights.json written.

Training (``sync.enrollments.duplicates.train``, unsupervised): 20,000 enrolments from each of five sets,
two seeds of ``bench/dedup_data.py`` and three of ``bench/dedup_noisy_data.py`` (one without sex and
phone), candidate pairs from ``keys.blocking_keys`` (a key over its cap left out, as matching does); m, u
and the prior by EM. The truth (``_person``) is used only afterwards, on other seeds, to choose the
thresholds: the link threshold with the best mean F0.5 (precision weighed twice recall) among those whose
precision is at least ``--precision`` on every selection set, then the highest review threshold whose
links + review candidates reach ``--recall`` of the true pairs on every set (or all that blocking brings
together). Held-out seeds are then scored with the chosen thresholds.

Scoring is in memory (no database): records arrive shuffled; each is compared with every record of each
cluster sharing a blocking key and joins the best cluster at or above the link threshold ("best
evidence"), unless a fact (``model.blockers_of``) stands against any record of that cluster; otherwise it
starts a cluster, with review candidates for up to three clusters in the review band. ``--sweep`` then
joins clusters sharing a key whose best pair reaches the link threshold, until nothing changes. Never
public record-linkage data sets.

    .venv/bin/python bench/dedup_fit.py --sweep              # train, choose thresholds, write weights.json
    .venv/bin/python bench/dedup_fit.py --eval --sweep       # score the shipped weights.json in memory
    .venv/bin/python bench/dedup_fit.py --design-keys --dry-run --sweep  # with the design's wider keys
    .venv/bin/python bench/dedup_fit.py --time 200000        # time training on 200,000 enrolments
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from bench import dedup_data, dedup_noisy_data  # noqa: E402
from sync.enrollments.duplicates import model  # noqa: E402
from sync.enrollments.duplicates.compare import FIELDS, LEVEL_NAMES, Person, compare  # noqa: E402
from sync.enrollments.duplicates.keys import blocking_keys, key_cap  # noqa: E402
from sync.enrollments.duplicates.model import DedupConfig, decide  # noqa: E402
from sync.enrollments.duplicates.normalize import (  # noqa: E402
    name_tokens,
    nik_digits,
    parse_date,
    phone_e164,
    phonetic,
    village_key,
)
from sync.enrollments.duplicates.train import KeyFunction, Trained, candidate_pairs, train  # noqa: E402
from sync.pii import PiiProtector  # noqa: E402

WEIGHTS = Path(__file__).resolve().parents[1] / "sync" / "enrollments" / "duplicates" / "weights.json"
MAX_REVIEW_CANDIDATES = 3  # as linking.py: review candidates opened per record at most


@dataclass(frozen=True)
class Source:
    """One synthetic data set: which generator, seed and options."""

    generator: str  # "data" (bench/dedup_data.py) or "noisy" (bench/dedup_noisy_data.py)
    seed: int
    sex_phone: bool = True

    @property
    def label(self) -> str:
        extra = "" if self.sex_phone else ", no sex/phone"
        return f"{self.generator} seed {self.seed}{extra}"

    def records(self, n: int) -> list[dict]:
        if self.generator == "data":
            return dedup_data.generate(n, self.seed)
        return dedup_noisy_data.generate(n, self.seed, sex_phone=self.sex_phone)


TRAIN = (
    Source("data", 101),
    Source("data", 102),
    Source("noisy", 101),
    Source("noisy", 102),
    Source("noisy", 103, False),
)
SELECT = (
    Source("data", 201),
    Source("data", 202),
    Source("noisy", 201),
    Source("noisy", 202),
    Source("noisy", 203, False),
)
HOLDOUT = (Source("data", 42), Source("noisy", 42), Source("noisy", 7, False))


def design_keys(p: Person, protector: PiiProtector) -> dict[str, str | None]:
    """Today's blocking keys plus an emulation of the ones the design note lists (helper B's work, not yet in
    ``keys.py``), so that any two intact fields among NIK, name, birth date, village, address and phone meet.
    For evaluating the model on the wider candidate sets to come (``--design-keys``); plaintext, bench only."""
    keys = dict(blocking_keys(p, protector))
    birth, village, address = p.any_birth, p.village_compact, p.address
    sounds = {phonetic(t) for t in (p.significant[:1] + p.significant[-1:])} if p.significant else set()
    place = " ".join(sorted(address.tokens)) if address and address.tokens else ""
    for k, sound in enumerate(sorted(sounds)):  # a word's keys meet the same word's in any position
        keys[f"name_year{k}"] = f"ny:{sound}:{birth.year}" if birth else None
        keys[f"name_village{k}"] = f"nv:{sound}:{village}" if village else None
        keys[f"name_address{k}"] = f"na:{sound}:{place}" if place else None
    keys["birth"] = f"b:{birth.isoformat()}" if birth else None
    keys["birth_address"] = f"ba:{birth}:{place}" if birth and place else None
    keys["village_address"] = f"va:{village}:{place}" if village and place else None
    if len(p.nik) >= 15:
        keys["nik_head_village"] = f"nh:{p.nik[:8]}:{village}" if village else None
        keys["nik_tail_village"] = f"nt:{p.nik[-8:]}:{village}" if village else None
    return keys


def pii() -> PiiProtector:
    keys = PiiProtector.generate_config()
    return PiiProtector.from_config(keys["JANGKAU_PII_KEYS"], keys["JANGKAU_PII_INDEX_KEY"])


def person(record: dict, protector: PiiProtector) -> Person:
    """A record as matching sees it (as ``matcher.person_of`` normalises a pushed row)."""
    return Person.build(
        nik=nik_digits(record["nik"]),
        tokens=name_tokens(record["full_name"]),
        birth=parse_date(record["birth_date"]),
        sex=record["sex"] or None,
        phone_index=protector.blind_index("phone", phone_e164(record["phone"])),
        village=village_key(record["village"]),
        address=record.get("address"),
        occupation=record.get("occupation"),
    )


# -- training ------------------------------------------------------------------------------------------


def fit(
    sources: Sequence[Source],
    n: int,
    protector: PiiProtector,
    *,
    u_source: str = "candidates",
    keys: KeyFunction = blocking_keys,
) -> Trained:
    """One model from every source pooled (candidate pairs and random pairs within each source)."""
    persons: list[Person] = []
    parts, strata = [], []
    for k, source in enumerate(sources):
        people = [person(r, protector) for r in source.records(n)]
        parts.append(candidate_pairs(people, protector, keys=keys, cap=key_cap) + len(persons))  # as matching
        strata += [k] * len(people)
        persons += people
    return train(persons, np.concatenate(parts), strata=strata, u_source=u_source, seed=1)


def print_table(config: DedupConfig) -> None:
    print("| field      | level                                          |        m |        u | weight | u random |")
    print("|------------|------------------------------------------------|----------|----------|--------|----------|")
    for name in FIELDS:
        for k, label in enumerate(LEVEL_NAMES[name]):
            m, u, w = config.m[name][k], config.u[name][k], config.weights[name][k]
            ur = config.u_random[name][k] if config.u_random else float("nan")
            print(f"| {name:<10} | {k} {label:<44} | {m:.6f} | {u:.6f} | {w:+6.2f} | {ur:.6f} |")
    print(f"prior (share of candidate pairs that are one person): {config.prior:.6f}")
    for label, table in config.tf.items():
        top = ", ".join(f"{v} {f:.4f}" for v, f in list(table.items())[:5])
        print(f"tf {label}: {len(table)} common values (top: {top})")


# -- in-memory clustering ------------------------------------------------------------------------------


@dataclass
class Scored:
    """A data set prepared for clustering: persons, their keys, the truth, pairs scored on demand."""

    label: str
    persons: list[Person]
    keys: list[list[str]]
    truth: list[int]
    order: list[int]
    cache: dict[tuple[int, int], tuple[float, bool]] = field(default_factory=dict)
    compared: int = 0

    @classmethod
    def of(
        cls, source: Source, n: int, protector: PiiProtector, seed: int = 0, keys: KeyFunction = blocking_keys
    ) -> Scored:
        records = source.records(n)
        persons = [person(r, protector) for r in records]
        key_lists = [sorted({v for v in keys(p, protector).values() if v}) for p in persons]
        order = list(range(len(records)))
        random.Random(seed).shuffle(order)
        return cls(source.label, persons, key_lists, [r["_person"] for r in records], order)

    def verdict(self, i: int, j: int, config: DedupConfig) -> tuple[float, bool]:
        """(probability, blocked by a fact) of a pair, memoised for one config."""
        pair = (i, j) if i < j else (j, i)
        hit = self.cache.get(pair)
        if hit is None:
            v = decide(compare(self.persons[i], self.persons[j]), config)
            hit = self.cache[pair] = (v.probability, bool(v.blockers))
        return hit


@dataclass
class Clustering:
    cluster: list[int]  # record → cluster id
    reviews: list[tuple[float, int, int]]  # (probability, new cluster, candidate cluster)
    compared: int


def _best(data: Scored, config: DedupConfig, i: int, records: list[int]) -> tuple[float, float, int]:
    """(best probability, if no fact stands against any record of the cluster, else 0; best probability;
    pairs compared) of record ``i`` against the records of one cluster. A fact (twins, different sexes)
    against one record of a person is against the person."""
    top, vetoed = 0.0, False
    for j in records:
        p, blocked = data.verdict(i, j, config)
        top = max(top, p)
        vetoed = vetoed or blocked
    return (0.0 if vetoed else top), top, len(records)


def cluster(data: Scored, config: DedupConfig, link: float, review: float, *, sweep: bool = False) -> Clustering:
    """Incremental clustering in arrival order with best evidence across each candidate's records; with
    ``sweep``, then clusters sharing a key are re-scored and joined above the link threshold until stable."""
    n = len(data.persons)
    assign = [-1] * n
    members: dict[int, list[int]] = defaultdict(list)
    index: dict[str, set[int]] = defaultdict(set)
    reviews = []
    compared = 0
    for i in data.order:
        candidates: set[int] = set()
        for key in data.keys[i]:
            candidates |= index.get(key, set())
        scored = []
        for c in candidates:
            best_link, best, k = _best(data, config, i, members[c])
            compared += k
            scored.append((best_link, best, c))
        linkable = [(p, c) for p, _, c in scored if p >= link]
        if linkable:
            target = max(linkable, key=lambda t: (t[0], -t[1]))[1]
        else:
            target = len(members)  # a new cluster
            scored.sort(key=lambda t: (-t[1], t[2]))
            reviews += [(p, target, c) for _, p, c in scored[:MAX_REVIEW_CANDIDATES] if p >= review]
        assign[i] = target
        members[target].append(i)
        for key in data.keys[i]:
            index[key].add(target)
    if sweep:
        assign, reviews = _sweep(data, config, link, assign, members, index, reviews)
    return Clustering(assign, reviews, compared)


def _sweep(data: Scored, config: DedupConfig, link: float, assign, members, index, reviews):
    """Clusters sharing a key, re-scored pairwise with best evidence, joined above the link threshold."""
    parent = list(range(len(members)))

    def find(c: int) -> int:
        while parent[c] != c:
            parent[c] = parent[parent[c]]
            c = parent[c]
        return c

    changed = True
    while changed:
        changed = False
        for clusters in index.values():
            live = sorted({find(c) for c in clusters})
            for x in range(len(live)):
                for y in range(x + 1, len(live)):
                    a, b = find(live[x]), find(live[y])
                    best = [_best(data, config, i, members[b]) for i in members[a]] if a != b else []
                    # A fact against any record of the other person keeps the two apart (as the sweep does).
                    if best and all(p == top for p, top, _ in best) and max(p for p, _, _ in best) >= link:
                        members[a] += members.pop(b)
                        parent[b] = a
                        changed = True
    return [find(c) for c in assign], [(p, find(a), find(b)) for p, a, b in reviews if find(a) != find(b)]


def _pairs(groups: dict[int, list[int]], truth: list[int]) -> tuple[int, int]:
    """(pairs within groups, of them true pairs)."""
    predicted = correct = 0
    for records in groups.values():
        k = len(records)
        predicted += k * (k - 1) // 2
        correct += sum(c * (c - 1) // 2 for c in Counter(truth[r] for r in records).values())
    return predicted, correct


def quality(data: Scored, result: Clustering, review: float) -> dict:
    truth_pairs = sum(c * (c - 1) // 2 for c in Counter(data.truth).values())
    groups: dict[int, list[int]] = defaultdict(list)
    for r, c in enumerate(result.cluster):
        groups[c].append(r)
    predicted, tp = _pairs(groups, data.truth)
    parent = list(range(1 + max([*result.cluster, *(c for _, a, b in result.reviews for c in (a, b))])))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    queue = 0
    for p, a, b in result.reviews:
        if p >= review:
            queue += 1
            parent[find(a)] = find(b)
    joined: dict[int, list[int]] = defaultdict(list)
    for r, c in enumerate(result.cluster):
        joined[find(c)].append(r)
    _, tp_review = _pairs(joined, data.truth)
    precision = tp / predicted if predicted else 1.0
    recall = tp / truth_pairs if truth_pairs else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "review_recall": tp_review / truth_pairs if truth_pairs else 1.0,
        "queue_per_1000": 1000 * queue / len(data.persons),
        "compared_per_record": result.compared / len(data.persons),
        "true_pairs": truth_pairs,
    }


# -- thresholds ----------------------------------------------------------------------------------------

LINK_GRID = [0.5, 0.6, *(1 - 10**-x for x in np.arange(0.5, 9.01, 0.125))]
REVIEW_GRID = sorted({0.001, 0.005, *(round(x, 3) for x in np.arange(0.01, 1.0, 0.01))})


BETA = 0.5  # a false merge (credit moved, a person hidden) costs more than a missed one (left to review)


def f_beta(precision: float, recall: float, beta: float) -> float:
    b2 = beta * beta
    return (1 + b2) * precision * recall / (b2 * precision + recall) if precision + recall else 0.0


def choose_thresholds(
    config: DedupConfig,
    sets: list[Scored],
    precision: float,
    recall: float,
    *,
    sweep: bool = False,
    log: Callable[[str], None] = print,
) -> DedupConfig:
    """The link threshold with the best mean F0.5 (precision weighed twice recall: a false merge moves credit
    and hides a person, a missed one waits in the review queue) among those whose precision is at least
    ``precision`` on every set; then the highest review threshold whose links + review candidates reach
    ``recall`` of the true pairs on every set (or, where blocking never brings that many together, all it
    can reach)."""
    floor_review = min(REVIEW_GRID)
    chosen, best = None, -1.0
    for link in LINK_GRID:
        results = [quality(d, cluster(d, config, link, floor_review, sweep=sweep), floor_review) for d in sets]
        worst = min(r["precision"] for r in results)
        f1 = sum(r["f1"] for r in results) / len(results)
        f_half = sum(f_beta(r["precision"], r["recall"], BETA) for r in results) / len(results)
        least = min(r["recall"] for r in results)
        log(f"  link {link:.9f}: precision >= {worst:.4f}, recall >= {least:.4f}, mean F1 {f1:.4f}, F0.5 {f_half:.4f}")
        if worst >= precision and f_half > best:
            chosen, best = link, f_half
    if chosen is None:
        raise SystemExit(f"no link threshold reaches precision {precision} on every selection set")
    runs = [(d, cluster(d, config, chosen, floor_review, sweep=sweep)) for d in sets]
    reachable = [quality(d, run, floor_review)["review_recall"] for d, run in runs]
    review = floor_review
    for candidate in sorted(REVIEW_GRID, reverse=True):
        if candidate > chosen:
            continue
        got = [quality(d, run, candidate)["review_recall"] for d, run in runs]
        if all(g >= min(recall, top - 0.0005) for g, top in zip(got, reachable, strict=True)):
            review = candidate
            break
    shown = ", ".join(f"{r:.4f}" for r in reachable)
    log(f"  chosen: link {chosen:.9f}, review {review} (links + review reachable: {shown})")
    return replace(config, link_threshold=float(round(chosen, 10)), review_threshold=float(review))


def report(config: DedupConfig, sets: list[Scored], title: str, *, sweep: bool = False) -> None:
    print(f"\n{title}: link threshold {config.link_threshold}, review threshold {config.review_threshold}")
    columns = ("data set".ljust(31), "records", "true pairs", "precision", "recall", "F1    ", "links+review recall")
    columns += ("review / 1000", "compared / record")
    print("| " + " | ".join(columns) + " |")
    print("|" + "|".join("-" * (len(c) + 2) for c in columns) + "|")
    for d in sets:
        run = cluster(d, config, config.link_threshold, config.review_threshold, sweep=sweep)
        q = quality(d, run, config.review_threshold)
        cells = (
            d.label.ljust(31),
            f"{len(d.persons):>7}",
            f"{q['true_pairs']:>10}",
            f"{q['precision']:>9.4f}",
            f"{q['recall']:>6.4f}",
            f"{q['f1']:.4f}",
            f"{q['review_recall']:>19.4f}",
            f"{q['queue_per_1000']:>13.1f}",
            f"{q['compared_per_record']:>17.1f}",
        )
        print("| " + " | ".join(cells) + " |")


# -- main ----------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20000, help="enrolments per training set")
    parser.add_argument("--select-n", type=int, default=5000, help="enrolments per threshold-selection set")
    parser.add_argument("--eval-n", type=int, default=5000, help="enrolments per held-out evaluation set")
    parser.add_argument("--precision", type=float, default=0.997, help="least precision at the link threshold")
    parser.add_argument("--recall", type=float, default=0.992, help="least links + review recall")
    parser.add_argument("--eval", action="store_true", help="only score the shipped weights.json in memory")
    parser.add_argument("--time", type=int, metavar="N", help="only time training on N noisy enrolments")
    parser.add_argument("--random-u", action="store_true", help="weigh with random-pair u (Splink's choice)")
    parser.add_argument("--design-keys", action="store_true", help="block with the design's wider keys (emulated)")
    parser.add_argument("--sweep", action="store_true", help="re-score clusters sharing a key after arrival")
    parser.add_argument("--dry-run", action="store_true", help="do not write weights.json")
    parser.add_argument("--output", type=Path, default=WEIGHTS, help="where to write the model (default: weights.json)")
    args = parser.parse_args()
    protector = pii()
    if args.time:
        records = dedup_noisy_data.generate(args.time, 1)
        started, cpu = time.perf_counter(), time.process_time()
        persons = [person(r, protector) for r in records]
        built = time.perf_counter()
        pairs = candidate_pairs(persons, protector, cap=key_cap)
        blocked = time.perf_counter()
        trained = train(persons, pairs)
        done = time.perf_counter()
        steps = ", ".join(f"{k} {v:.1f} s" for k, v in trained.seconds.items())
        print(
            f"{args.time} enrolments: normalise {built - started:.1f} s, block {blocked - built:.1f} s "
            f"({len(pairs)} pairs), train {done - blocked:.1f} s ({steps}); total {done - started:.1f} s "
            f"({time.process_time() - cpu:.1f} s of CPU)"
        )
        return
    keys = design_keys if args.design_keys else blocking_keys
    if args.eval:
        config = model.shipped_config()
        held_out = [Scored.of(s, args.eval_n, protector, keys=keys) for s in HOLDOUT]
        report(config, held_out, "held-out sets", sweep=args.sweep)
        return
    started = time.perf_counter()
    trained = fit(TRAIN, args.n, protector, u_source="random" if args.random_u else "candidates", keys=keys)
    print(
        f"trained on {trained.records} enrolments, {trained.blocked_pairs} blocked pairs, {trained.random_pairs} "
        f"random pairs, {trained.iterations} EM iterations in {time.perf_counter() - started:.1f} s"
    )
    print_table(trained.config)
    selection = [Scored.of(s, args.select_n, protector, keys=keys) for s in SELECT]
    config = choose_thresholds(trained.config, selection, args.precision, args.recall, sweep=args.sweep)
    report(config, selection, "selection sets", sweep=args.sweep)
    held_out = [Scored.of(s, args.eval_n, protector, keys=keys) for s in HOLDOUT]
    report(config, held_out, "held-out sets", sweep=args.sweep)
    if not args.dry_run:
        args.output.write_text(json.dumps(config.to_dict(), indent=1, ensure_ascii=False) + "\n")
        model._load.cache_clear()
        print(f"\nwrote {args.output}")


if __name__ == "__main__":
    main()
