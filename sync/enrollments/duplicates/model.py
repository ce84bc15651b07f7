"""The Fellegi–Sunter model: agreement weights per field level, thresholds, and the three outcomes.

Weights are ``log2(m / u)``: ``m`` = P(level | same person), ``u`` = P(level | different people among
blocked candidate pairs). They are fitted on the labelled synthetic set (``bench/dedup_quality.py
--fit``) and stored in ``weights.json``; the server reads another file named by ``JANGKAU_DEDUP_CONFIG``
once, at start-up (``read_config``), and hands the model to the engine in ``EngineSettings.dedup``. A false
merge is worse than a miss, so on top of the probability, auto-linking is refused when the sexes
differ, the names are far apart, or two complete NIKs are plainly different: those go to review.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path

from sync.enrollments.duplicates.compare import FIELDS, LEVELS, Comparison

LINK, REVIEW, NEW = "link", "review", "new"
# Twins born in one district get consecutive NIK serials; a typo in the serial rarely lands that close.
TWIN_SERIAL_GAP = 1


@dataclass(frozen=True)
class DedupConfig:
    """Model parameters and thresholds (probabilities of being the same person)."""

    m: dict[str, list[float]]
    u: dict[str, list[float]]
    prior: float = 0.3
    link_threshold: float = 0.995
    review_threshold: float = 0.5
    weights: dict[str, list[float]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        table = {}
        for name in FIELDS:
            m, u = self.m[name], self.u[name]
            if len(m) != LEVELS[name] or len(u) != LEVELS[name]:
                raise ValueError(f"dedup config: {name} needs {LEVELS[name]} levels")
            table[name] = [math.log2(max(mi, 1e-6) / max(ui, 1e-6)) for mi, ui in zip(m, u, strict=True)]
        object.__setattr__(self, "weights", table)

    @classmethod
    def from_dict(cls, data: dict) -> DedupConfig:
        return cls(
            m=data["m"],
            u=data["u"],
            prior=data.get("prior", 0.3),
            link_threshold=data.get("link_threshold", 0.995),
            review_threshold=data.get("review_threshold", 0.5),
        )

    def to_dict(self) -> dict:
        return {
            "prior": self.prior,
            "link_threshold": self.link_threshold,
            "review_threshold": self.review_threshold,
            "m": self.m,
            "u": self.u,
        }


@lru_cache(maxsize=1)
def _load() -> DedupConfig:
    return DedupConfig.from_dict(json.loads(resources.files(__package__).joinpath("weights.json").read_text()))


def shipped_config() -> DedupConfig:
    """The model shipped beside this module (``weights.json``), read once per process (``bench/dedup_quality.py
    --fit`` rewrites the file and clears ``_load``'s cache)."""
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
        raise ValueError(f"{str(path)!r} lacks {exc.args[0]!r}") from exc
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


def decide(comparison: Comparison, config: DedupConfig) -> Verdict:
    """Score a comparison and place it in a band: link, review or new person."""
    weight = sum(config.weights[f][lvl] for f, lvl in comparison.levels.items() if lvl is not None)
    logit = weight + math.log2(config.prior / (1 - config.prior))
    probability = 1.0 / (1.0 + 2.0 ** (-logit)) if logit > -60 else 0.0
    levels = comparison.levels
    blockers = []
    if levels["sex"] == 1:
        blockers.append("different sex")
    if levels["name"] is not None and levels["name"] >= 4:
        blockers.append("names too different")
    elif levels["name"] == 3 and levels["nik"] != 0:
        blockers.append("names differ and the NIKs are not equal (twins or relatives?)")
    if levels["nik"] == 4:
        blockers.append("different NIK")
    if levels["nik"] != 0 and comparison.first_names_differ:
        blockers.append("given names differ and the NIKs are not equal (relatives?)")
    gap = comparison.serial_gap  # set whenever the NIK level is 2
    if levels["nik"] == 2 and levels["name"] != 0 and gap is not None and gap <= TWIN_SERIAL_GAP:
        blockers.append("NIKs differ only in the serial, by little, and the names differ (twins?)")
    if probability >= config.link_threshold and not blockers:
        outcome = LINK
    elif probability >= config.review_threshold:
        outcome = REVIEW
    else:
        outcome = NEW
    return Verdict(outcome, probability, weight, comparison.reasons, levels, blockers)
