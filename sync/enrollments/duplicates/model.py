"""The Fellegi–Sunter model: agreement weights per field level, thresholds, and the three outcomes.

Weights are ``log2(m / u)`` per field level (``compare.LEVEL_NAMES``): ``m`` = P(level | same person),
``u`` = P(level | different people among candidate pairs), both learned without labels (``train``: EM
over the pairs blocking puts together). Exact agreement on a common name or village counts for less than
on a rare one: the model file keeps the frequencies of values seen often (``tf``), measured against the
agreement of random pairs (``u_random``). The probability of one person is the prior (share of candidate
pairs that are one person) updated by the summed weights; it falls in a band: link, review or new.

Only facts stand above the score and turn a would-be link into review: different sexes that no NIK typo
explains, and NIKs of one birth date and district but for the serial or one district digit (twins,
triplets, two people born the same day) with names that differ: by any letter when the serials are
consecutive, plainly otherwise.

The shipped ``weights.json`` is made by ``bench/dedup_fit.py`` (trained on both synthetic generators,
thresholds chosen on labelled seeds); the server reads another file named by ``JANGKAU_DEDUP_CONFIG``
once, at start-up (``read_config``), and hands the model to the engine in ``EngineSettings.dedup``.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path

from sync.enrollments.duplicates.compare import FIELDS, LEVEL_NAMES, LEVELS, Comparison

LINK, REVIEW, NEW = "link", "review", "new"
# Twins born in one district get consecutive NIK serials; a typo in the serial rarely lands that close.
TWIN_SERIAL_GAP = 1
# Two serials of one district and birth date (or one serial of two neighbouring district codes) were given
# to two people; beside a slip in a digit, only a given name unlike the other's (name level 5 or 6) tells
# them apart from one person mistyped. Consecutive serials with any other name are twins.
UNLIKE_GIVEN_NAME = 5
FORMAT = 3  # the model file's layout: every field of compare.FIELDS with its levels, tf tables
TF_FIELDS = ("name", "village")


@dataclass(frozen=True)
class DedupConfig:
    """Model parameters and thresholds (probabilities of being the same person)."""

    m: dict[str, list[float]]
    u: dict[str, list[float]]
    prior: float = 0.3
    link_threshold: float = 0.995
    review_threshold: float = 0.5
    # Frequency (share of enrolments) of each common exact value: {"name": {"budi santoso": 0.0012}, ...}
    tf: dict[str, dict[str, float]] = field(default_factory=dict)
    # u among random pairs: the average exact agreement a value's frequency is measured against (else u)
    u_random: dict[str, list[float]] = field(default_factory=dict)
    trained: dict = field(default_factory=dict)  # how and on what it was trained (informational)
    weights: dict[str, list[float]] = field(init=False, repr=False)
    tf_weights: dict[str, dict[str, float]] = field(init=False, repr=False)
    prior_logit: float = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if not 0 < self.prior < 1:
            raise ValueError("dedup config: prior must lie strictly between 0 and 1")
        if not 0 <= self.review_threshold <= self.link_threshold <= 1:
            raise ValueError("dedup config: need 0 <= review_threshold <= link_threshold <= 1")
        table = {}
        for name in FIELDS:
            m, u = self.m[name], self.u[name]
            if len(m) != LEVELS[name] or len(u) != LEVELS[name]:
                raise ValueError(f"dedup config: {name} needs {LEVELS[name]} levels ({', '.join(LEVEL_NAMES[name])})")
            table[name] = [math.log2(max(mi, 1e-9) / max(ui, 1e-9)) for mi, ui in zip(m, u, strict=True)]
        object.__setattr__(self, "weights", table)
        # Exact agreement on a common value: u is that value's frequency (never below the level's u, so a
        # value rarer than average keeps the level's weight). Stored as the change to the exact weight.
        adjust: dict[str, dict[str, float]] = {}
        for name, freqs in self.tf.items():
            if name not in TF_FIELDS:
                raise ValueError(f"dedup config: no term frequencies for {name}")
            u0 = max((self.u_random or self.u)[name][0], 1e-9)
            adjust[name] = {value: -math.log2(max(f, u0) / u0) for value, f in freqs.items() if f > u0}
        object.__setattr__(self, "tf_weights", adjust)
        object.__setattr__(self, "prior_logit", math.log2(self.prior / (1 - self.prior)))

    @classmethod
    def from_dict(cls, data: dict) -> DedupConfig:
        return cls(
            m=data["m"],
            u=data["u"],
            prior=data.get("prior", 0.3),
            link_threshold=data.get("link_threshold", 0.995),
            review_threshold=data.get("review_threshold", 0.5),
            tf=data.get("tf", {}),
            u_random=data.get("u_random", {}),
            trained=data.get("trained", {}),
        )

    def to_dict(self) -> dict:
        return {
            "format": FORMAT,
            "prior": self.prior,
            "link_threshold": self.link_threshold,
            "review_threshold": self.review_threshold,
            "levels": {name: list(labels) for name, labels in LEVEL_NAMES.items()},
            "m": self.m,
            "u": self.u,
            "u_random": self.u_random,
            "tf": self.tf,
            "trained": self.trained,
        }


@lru_cache(maxsize=1)
def _load() -> DedupConfig:
    return DedupConfig.from_dict(json.loads(resources.files(__package__).joinpath("weights.json").read_text()))


def shipped_config() -> DedupConfig:
    """The model shipped beside this module (``weights.json``), read once per process (``bench/dedup_fit.py``
    rewrites the file and clears ``_load``'s cache)."""
    return _load()


def read_config(path: str | Path) -> DedupConfig:
    """The model in the JSON file at ``path``; ValueError with a one-line reason when it cannot be used."""
    try:
        data = json.loads(Path(path).read_text())
    except OSError as exc:
        raise ValueError(f"cannot read {str(path)!r}: {exc.strerror or exc}") from exc
    except ValueError as exc:
        raise ValueError(f"{str(path)!r} is not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise ValueError(f"{str(path)!r} must hold a JSON object")
    try:
        return DedupConfig.from_dict(data)
    except KeyError as exc:
        raise ValueError(f"{str(path)!r} lacks {exc.args[0]!r} (retrain it: jangkau dedup-train)") from exc
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{str(path)!r} is not a usable model: {exc}") from exc


@dataclass
class Verdict:
    outcome: str
    probability: float
    weight: float
    reasons: list[str]
    levels: dict[str, int | None]
    blockers: list[str]


def score(comparison: Comparison, config: DedupConfig) -> float:
    """The match weight in bits: level weights summed (missing fields add nothing), common values discounted."""
    weights = config.weights
    weight = 0.0
    for name, level in comparison.levels.items():
        if level is not None:
            weight += weights[name][level]
    if comparison.name_value is not None:
        weight += config.tf_weights.get("name", {}).get(comparison.name_value, 0.0)
    if comparison.village_value is not None:
        weight += config.tf_weights.get("village", {}).get(comparison.village_value, 0.0)
    return weight


def probability_of(weight: float, config: DedupConfig) -> float:
    logit = weight + config.prior_logit
    return 1.0 / (1.0 + 2.0 ** (-logit)) if logit > -60 else 0.0


def blockers_of(comparison: Comparison) -> list[str]:
    """The facts that forbid an automatic link, whatever the score."""
    levels = comparison.levels
    blockers = []
    if levels["sex"] == 1:
        blockers.append("different sex")
    gap, name = comparison.serial_gap, levels["name"]
    if gap is not None and name is not None and (name >= UNLIKE_GIVEN_NAME or (0 < gap <= TWIN_SERIAL_GAP and name)):
        blockers.append("NIKs of one birth date and district, other names (twins?)")
    return blockers


def decide(comparison: Comparison, config: DedupConfig) -> Verdict:
    """Score a comparison and place it in a band: link, review or new person."""
    weight = score(comparison, config)
    probability = probability_of(weight, config)
    blockers = blockers_of(comparison)
    reasons = comparison.reasons
    if comparison.name_value in config.tf_weights.get("name", {}):
        reasons = [*reasons, "a common name"]
    if probability >= config.link_threshold and not blockers:
        outcome = LINK
    elif probability >= config.review_threshold:
        outcome = REVIEW
    else:
        outcome = NEW
    return Verdict(outcome, probability, weight, reasons, comparison.levels, blockers)
