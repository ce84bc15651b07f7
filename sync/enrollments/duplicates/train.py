"""Learning the duplicate model from enrolments, without labels (Fellegi–Sunter, as Splink and fastLink do).

1. Pairs: every pair of enrolments sharing a blocking key (``keys.blocking_keys``), compared
   (``compare.compare``) into a matrix of levels, one row per pair, ``-1`` where a side lacks the field.
2. ``u_random`` = P(level | two different people) on random pairs of enrolments (almost all of which are
   different people), as Splink estimates u.
3. m = P(level | same person), u = P(level | different people among the candidate pairs) and the prior
   (share of candidate pairs that are one person), by expectation–maximisation over the blocked pairs,
   as fastLink does: a two-class mixture, fields independent within a class, missing fields neutral,
   started from ``u_random``. The E and M steps run on the distinct level patterns with their counts
   (numpy), so their cost does not grow with the number of pairs.
4. The weights ``log2(m / u)`` of a field may not rise as agreement falls: where a less agreeing level
   would weigh more (a typo in a village outweighing the same village, because blocking finds strangers
   through the exact village), adjacent levels are pooled, keeping their total m and u.
5. Term frequencies: the share of enrolments holding each normalised name and village seen at least
   ``TF_MIN_COUNT`` times; exact agreement on a value counts ``log2(frequency / u_random)`` less.

Why the weights use u among candidate pairs and not ``u_random`` (Splink's choice): candidates are mostly
households and namesakes, and with random-pair u the same phone, address, village and family name of
two relatives count as four independent coincidences, enough to merge them. Measured with
``bench/dedup_fit.py --random-u``: the worst precision over the selection sets stays below 0.991 at every
link threshold up to 1 - 1e-9, against 0.998 with candidate u. The prior and the decision are both about
candidate pairs, as the push scores only those.

m and u are kept off 0 (``FLOOR``), so no level outside the fact vetoes (``model.blockers_of``) is impossible for
one person. Thresholds are not learned here: ``bench/dedup_fit.py`` chooses them on labelled synthetic data.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from sync.enrollments.duplicates.compare import FIELDS, LEVELS, Person, compare
from sync.enrollments.duplicates.keys import blocking_keys
from sync.enrollments.duplicates.model import DedupConfig
from sync.pii import PiiProtector

TF_MIN_COUNT = 10
RANDOM_PAIRS = 300_000  # random pairs for u_random: about a hundred exact name agreements among them
MAX_BLOCK = 200  # a key shared by more enrolments contributes a random sample of its pairs
MAX_PAIRS = 3_000_000  # blocked pairs compared for EM at most (a random sample beyond)
FLOOR = 1e-3  # least probability of a level in either class (no level is impossible for one person)
EM_ITERATIONS = 500
EM_TOLERANCE = 1e-7

KeyFunction = Callable[[Person, PiiProtector], Mapping[str, str | None]]


@dataclass
class Trained:
    """A learned model and how it was learned."""

    config: DedupConfig
    records: int
    blocked_pairs: int
    random_pairs: int
    iterations: int
    seconds: dict[str, float] = field(default_factory=dict)


def candidate_pairs(
    persons: Sequence[Person],
    pii: PiiProtector,
    *,
    max_block: int = MAX_BLOCK,
    seed: int = 0,
    keys: KeyFunction = blocking_keys,
    cap: Callable[[str], int] | None = None,
) -> np.ndarray:
    """Every pair ``(i, j)``, ``i < j``, of persons sharing a blocking key value, once; shape ``(n, 2)``.

    Keys meet by value, whatever kind or position they were listed under (a word of the name may be the
    first of one record and the second of another); a stored key names its kind in its value. A key held
    by more persons than ``cap(key)`` is left out, as matching leaves it out; without ``cap``, a block
    larger than ``max_block`` gives a random sample of its pairs.
    """
    rng = np.random.default_rng(seed)
    blocks: dict[str, list[int]] = {}
    for i, person in enumerate(persons):
        for value in set(keys(person, pii).values()):
            if value:
                blocks.setdefault(value, []).append(i)
    codes = []
    n = len(persons)
    for value, members in blocks.items():
        k = len(members)
        if k < 2 or (cap is not None and k > cap(value)):
            continue
        idx = np.asarray(members, dtype=np.int64)
        if k <= max_block:
            a, b = np.triu_indices(k, 1)
        else:  # as many random pairs as a full block of max_block would give
            want = max_block * (max_block - 1) // 2
            a, b = rng.integers(0, k, want), rng.integers(0, k, want)
            keep = a != b
            a, b = a[keep], b[keep]
        lo, hi = np.minimum(idx[a], idx[b]), np.maximum(idx[a], idx[b])
        codes.append(lo * n + hi)
    if not codes:
        return np.zeros((0, 2), dtype=np.int64)
    unique = np.unique(np.concatenate(codes))
    return np.stack([unique // n, unique % n], axis=1)


def level_matrix(persons: Sequence[Person], pairs: Iterable[tuple[int, int]] | np.ndarray) -> np.ndarray:
    """The comparison levels of each pair, one column per field of ``compare.FIELDS``; ``-1`` = missing."""
    rows = []
    for i, j in pairs:
        levels = compare(persons[int(i)], persons[int(j)]).levels
        rows.append([-1 if (lvl := levels[f]) is None else lvl for f in FIELDS])
    return np.asarray(rows, dtype=np.int8).reshape(-1, len(FIELDS))


def random_pairs(n: int, count: int, rng: np.random.Generator, strata: Sequence[int] | None = None) -> np.ndarray:
    """``count`` random pairs of distinct indices below ``n`` (drawn with replacement); with ``strata`` (a
    label per index), both sides of a pair come from one stratum, strata drawn by their share of pairs."""
    if strata is None:
        a = rng.integers(0, n, count)
        b = (a + rng.integers(1, n, count)) % n
        return np.stack([a, b], axis=1)
    labels = np.asarray(strata)
    groups = [g for g in (np.flatnonzero(labels == label) for label in np.unique(labels)) if len(g) > 1]
    sizes = np.asarray([len(g) * (len(g) - 1) / 2 for g in groups])
    per_group = rng.multinomial(count, sizes / sizes.sum())
    parts = [members[random_pairs(len(members), int(k), rng)] for members, k in zip(groups, per_group, strict=True)]
    return np.concatenate(parts)


def level_frequencies(levels: np.ndarray, weights: np.ndarray | None = None) -> dict[str, list[float]]:
    """P(level) per field among the rows (weighted), missing values left out, floored at ``FLOOR``."""
    out = {}
    w = np.ones(len(levels)) if weights is None else weights
    for f, name in enumerate(FIELDS):
        column = levels[:, f]
        present = column >= 0
        counts = np.bincount(column[present], weights=w[present], minlength=LEVELS[name])[: LEVELS[name]]
        out[name] = _normalise(counts)
    return out


def u_probabilities(levels: np.ndarray) -> dict[str, list[float]]:
    """P(level) per field among random pairs, one pseudo-count per level (a level never seen among a
    million random pairs gets about one in a million, not zero)."""
    out = {}
    for f, name in enumerate(FIELDS):
        column = levels[:, f]
        counts = np.bincount(column[column >= 0], minlength=LEVELS[name])[: LEVELS[name]] + 1.0
        out[name] = [float(x) for x in counts / counts.sum()]
    return out


def _normalise(counts: np.ndarray) -> list[float]:
    total = counts.sum()
    p = counts / total if total > 0 else np.full(len(counts), 1.0 / len(counts))
    p = np.maximum(p, FLOOR)
    return [float(x) for x in p / p.sum()]


def _log_table(probs: dict[str, list[float]]) -> list[np.ndarray]:
    """Per field, log P(level) with a trailing 0 for the missing level ``-1``."""
    return [np.log(np.append(np.asarray(probs[name], dtype=np.float64), 1.0)) for name in FIELDS]


def _log_likelihood(patterns: np.ndarray, table: list[np.ndarray]) -> np.ndarray:
    total = np.zeros(len(patterns))
    for f in range(len(FIELDS)):
        total += table[f][patterns[:, f]]  # index -1 picks the trailing log 1 = 0
    return total


@dataclass
class EmResult:
    m: dict[str, list[float]]
    u: dict[str, list[float]]
    prior: float
    iterations: int


def expectation_maximisation(
    levels: np.ndarray,
    *,
    m: dict[str, list[float]],
    u: dict[str, list[float]],
    prior: float,
    fix_u: bool = False,
    iterations: int = EM_ITERATIONS,
    tolerance: float = EM_TOLERANCE,
) -> EmResult:
    """m, u (unless ``fix_u``) and the share of matches among the rows of ``levels``, by EM from a start."""
    if len(levels) == 0:
        raise ValueError("EM needs at least one pair")
    patterns, counts = np.unique(levels, axis=0, return_counts=True)
    counts = counts.astype(np.float64)
    total = counts.sum()
    done = 0
    while done < iterations:
        done += 1
        lm = _log_likelihood(patterns, _log_table(m)) + np.log(prior)
        lu = _log_likelihood(patterns, _log_table(u)) + np.log1p(-prior)
        g = 1.0 / (1.0 + np.exp(np.clip(lu - lm, -700, 700)))  # P(match | pattern)
        new_prior = float(np.clip((g * counts).sum() / total, 1e-9, 1 - 1e-9))
        new_m = level_frequencies(patterns, g * counts)
        new_u = u if fix_u else level_frequencies(patterns, (1 - g) * counts)
        change = max(
            abs(new_prior - prior),
            max(abs(a - b) for name in FIELDS for a, b in zip(new_m[name], m[name], strict=True)),
            max(abs(a - b) for name in FIELDS for a, b in zip(new_u[name], u[name], strict=True)),
        )
        m, u, prior = new_m, new_u, new_prior
        if change < tolerance:
            break
    return EmResult(m, u, prior, done)


def starting_m() -> dict[str, list[float]]:
    """EM's start for m: most mass on full agreement, decreasing through the levels."""
    return {
        name: _normalise(np.asarray([0.9 if i == 0 else 0.1 / 2**i for i in range(k)])) for name, k in LEVELS.items()
    }


def monotone(m: list[float], u: list[float]) -> tuple[list[float], list[float]]:
    """m and u of one field with ``m/u`` non-increasing through the levels (pool adjacent violators).

    A pooled run of levels keeps its total m and total u and shares them in proportion to u, so every
    level of the run has the run's ratio (and weight) and each list still sums to 1.
    """
    runs: list[list[int]] = []  # each run: level indices
    for k in range(len(m)):
        runs.append([k])
        while len(runs) > 1 and _ratio(runs[-1], m, u) > _ratio(runs[-2], m, u):
            last = runs.pop()
            runs[-1] += last
    new_m, new_u = list(m), list(u)
    for run in runs:
        mass_m, mass_u = sum(m[k] for k in run), sum(u[k] for k in run)
        for k in run:
            new_m[k] = mass_m * u[k] / mass_u
    return new_m, new_u


def _ratio(run: list[int], m: list[float], u: list[float]) -> float:
    return sum(m[k] for k in run) / max(sum(u[k] for k in run), 1e-12)


def term_frequencies(persons: Sequence[Person], min_count: int = TF_MIN_COUNT) -> dict[str, dict[str, float]]:
    """Share of enrolments holding each name and village seen at least ``min_count`` times."""
    names = Counter(p.name for p in persons if p.name)
    villages = Counter(p.village_compact for p in persons if p.village_compact)
    out = {}
    for label, counter in (("name", names), ("village", villages)):
        total = sum(counter.values())
        out[label] = {
            value: round(count / total, 8)
            for value, count in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))
            if count >= min_count
        }
    return out


def train(
    persons: Sequence[Person],
    pairs: np.ndarray | Sequence[tuple[int, int]],
    *,
    random_pair_count: int = RANDOM_PAIRS,
    max_pairs: int = MAX_PAIRS,
    seed: int = 0,
    link_threshold: float = 0.99,
    review_threshold: float = 0.5,
    u_source: str = "candidates",
    strata: Sequence[int] | None = None,
) -> Trained:
    """A model learned from ``persons`` and the candidate pairs blocking forms among them (index pairs,
    e.g. ``candidate_pairs``). Thresholds are taken as given (chosen on labelled data elsewhere).

    ``u_source="random"`` weighs with the random-pair u instead (Splink's choice; for comparison only).
    ``strata`` (a label per person) keeps random pairs within a label: separate synthetic populations
    pooled for training are not one population.
    """
    if u_source not in ("candidates", "random"):
        raise ValueError("u_source is 'candidates' or 'random'")
    rng = np.random.default_rng(seed)
    seconds = {}
    started = time.perf_counter()
    n = len(persons)
    if n < 2:
        raise ValueError("training needs at least two enrolments")
    count = min(random_pair_count, n * (n - 1) // 2)
    u_random = u_probabilities(level_matrix(persons, random_pairs(n, count, rng, strata)))
    seconds["random pairs"] = time.perf_counter() - started
    started = time.perf_counter()
    index = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    if len(index) > max_pairs:
        index = index[rng.choice(len(index), max_pairs, replace=False)]
    levels = level_matrix(persons, index)
    seconds["candidate pairs"] = time.perf_counter() - started
    started = time.perf_counter()
    result = expectation_maximisation(levels, m=starting_m(), u=u_random, prior=0.1)
    u = result.u if u_source == "candidates" else u_random
    m: dict[str, list[float]] = {}
    for name in FIELDS:
        m[name], _ = monotone(result.m[name], u[name])
    seconds["em"] = time.perf_counter() - started
    started = time.perf_counter()
    tf = term_frequencies(persons)
    seconds["tf"] = time.perf_counter() - started

    def rounded(table: dict[str, list[float]]) -> dict[str, list[float]]:
        return {name: [round(x, 8) for x in values] for name, values in table.items()}

    config = DedupConfig(
        m=rounded(m),
        u=rounded(u),
        u_random=rounded(u_random),
        prior=round(result.prior, 8),
        link_threshold=link_threshold,
        review_threshold=review_threshold,
        tf=tf,
        trained={
            "records": n,
            "candidate_pairs": len(index),
            "random_pairs": count,
            "em_iterations": result.iterations,
            "u": u_source,
        },
    )
    return Trained(config, n, len(index), count, result.iterations, seconds)
