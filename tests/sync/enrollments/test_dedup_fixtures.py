"""The hand-written tricky pairs (fixtures/dedup/tricky_pairs.json) land in their expected band."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sync.enrollments.duplicates.compare import compare
from sync.enrollments.duplicates.matcher import person_of
from sync.enrollments.duplicates.model import decide
from sync.enrollments.duplicates.normalize import nik_digits, phone_e164
from sync.settings import EngineSettings

PAIRS = json.loads((Path(__file__).resolve().parents[3] / "fixtures" / "dedup" / "tricky_pairs.json").read_text())


def _person(record: dict, pii):
    return person_of(
        nik=nik_digits(record["nik"]),
        full_name=record["full_name"],
        birth_date=record["birth_date"],
        sex=record["sex"],
        phone_index=pii.blind_index("phone", phone_e164(record["phone"])),
        village=record["village"],
    )


@pytest.mark.parametrize("pair", PAIRS, ids=[p["why"] for p in PAIRS])
def test_tricky_pair_band(pair, pii):
    """Each tricky pair is linked, sent to review or kept apart, as its fixture says, with reasons."""
    model = EngineSettings().dedup  # the shipped weights.json, which a push without settings uses
    verdict = decide(compare(_person(pair["a"], pii), _person(pair["b"], pii)), model)
    assert verdict.outcome == pair["expect"], (verdict.probability, verdict.reasons, verdict.blockers)
    assert verdict.reasons
