"""Learning the duplicate model (sync/enrollments/duplicates/train.py) and applying it (model.py)."""

from __future__ import annotations

import itertools
import json
from dataclasses import replace

import numpy as np
import pytest

from bench import dedup_data, dedup_noisy_data
from bench.dedup_fit import Scored, Source, cluster, person, quality
from sync.enrollments.duplicates.compare import FIELDS, LEVELS, Person, compare
from sync.enrollments.duplicates.model import LINK, REVIEW, decide, read_config, shipped_config
from sync.enrollments.duplicates.normalize import name_tokens, parse_date, village_key
from sync.enrollments.duplicates.train import (
    candidate_pairs,
    expectation_maximisation,
    monotone,
    starting_m,
    term_frequencies,
    train,
)
from tests.dedup_helpers import comparable


def _draw(rng: np.random.Generator, k: int, agree: bool) -> list[float]:
    """A level distribution leaning to agreement (m) or disagreement (u)."""
    shape = np.linspace(3.0, 0.3, k) if agree else np.linspace(0.3, 3.0, k)
    p = rng.dirichlet(shape * 4)
    return [float(x) for x in p]


def test_em_recovers_known_m_u_and_prior():
    """Levels drawn from known m, u and prior (10% missing per field): EM from a neutral start finds them."""
    rng = np.random.default_rng(3)
    m = {f: _draw(rng, LEVELS[f], True) for f in FIELDS}
    u = {f: _draw(rng, LEVELS[f], False) for f in FIELDS}
    n, prior = 40_000, 0.3
    same = rng.random(n) < prior
    levels = np.empty((n, len(FIELDS)), dtype=np.int8)
    for j, f in enumerate(FIELDS):
        levels[same, j] = rng.choice(LEVELS[f], same.sum(), p=m[f])
        levels[~same, j] = rng.choice(LEVELS[f], (~same).sum(), p=u[f])
        levels[rng.random(n) < 0.1, j] = -1
    start_u = {f: [1 / LEVELS[f]] * LEVELS[f] for f in FIELDS}
    found = expectation_maximisation(levels, m=starting_m(), u=start_u, prior=0.1)
    assert abs(found.prior - prior) < 0.01
    for f in FIELDS:
        assert np.abs(np.subtract(found.m[f], m[f])).max() < 0.02, f
        assert np.abs(np.subtract(found.u[f], u[f])).max() < 0.02, f


def test_weights_never_rise_as_agreement_falls():
    """Adjacent levels whose m/u would rise are pooled: same ratio, totals kept."""
    m, u = [0.5, 0.3, 0.1, 0.1], [0.01, 0.001, 0.2, 0.789]
    new_m, new_u = monotone(m, u)
    ratios = [a / b for a, b in zip(new_m, new_u, strict=True)]
    assert ratios[0] == pytest.approx(ratios[1]) == pytest.approx(0.8 / 0.011)
    assert ratios == sorted(ratios, reverse=True)
    assert sum(new_m) == pytest.approx(1.0) and new_u == u


def _named(name: str, village: str = "Cilamaya") -> Person:
    return Person.build(
        nik="",
        tokens=name_tokens(name),
        birth=parse_date("1985-03-12"),
        sex="M",
        phone_index=None,
        village=village_key(village),
        address="Jl. Pelabuhan 3",
        occupation="nelayan",
    )


def test_term_frequencies_lower_a_common_exact_name():
    """A name shared by 1% of enrolments weighs less, exactly agreed, than a rare one (which keeps the
    level's weight); only values seen at least 10 times are in the table."""
    unique = ["".join(letters) for letters in itertools.product("bdgkmprst", "aiu", "bdgkmprst", "aiu", "bdgkmprst")][
        :2970
    ]
    people = [_named("Budi Santoso")] * 30 + [_named(f"Orang {word}") for word in unique]
    people.append(_named("Tukiman Hadi"))
    tf = term_frequencies(people)
    assert tf["name"] == {"budi santoso": pytest.approx(0.01, rel=0.01)} and "cilamaya" in tf["village"]
    config = replace(shipped_config(), tf={"name": tf["name"]})
    common = decide(compare(_named("Budi Santoso"), _named("Budi Santoso")), config)
    rare = decide(compare(_named("Tukiman Hadi"), _named("Tukiman Hadi")), config)
    assert rare.weight > common.weight
    untabled = decide(compare(_named("Tukiman Hadi"), _named("Tukiman Hadi")), shipped_config())
    assert rare.weight == pytest.approx(untabled.weight)
    assert "a common name" in common.reasons and "a common name" not in rare.reasons


def test_fact_vetoes_send_a_strong_pair_to_review():
    """Different sexes (no NIK to explain them) and twins' NIKs with other names never link, however
    much else agrees; a serial typo with the same name still links."""
    config = replace(shipped_config(), link_threshold=0.99, review_threshold=0.5)
    sexes = decide(compare(comparable(nik=""), comparable(nik="", sex="F")), config)
    assert sexes.blockers == ["different sex"] and sexes.outcome == REVIEW
    twins = decide(compare(comparable(), comparable(nik="3215011203850008", name="Muhammad Yunus")), config)
    assert twins.outcome == REVIEW and "twins" in twins.blockers[0]
    typo = decide(compare(comparable(), comparable(nik="3215011203850008")), config)
    assert typo.outcome == LINK and not typo.blockers
    explained = decide(compare(comparable(), comparable(sex="F")), config)  # the NIK says M: a typo in the sex
    assert explained.outcome == LINK and not explained.blockers
    # The same serial with a slip in the district code: one NIK mistyped, not twins, whatever the name's slip.
    slip = decide(compare(comparable(), comparable(nik="4215011203850007", name="Muhamad Yusfu")), config)
    assert not slip.blockers


def test_model_file_round_trip(tmp_path):
    """A model written as JSON reads back to the same weights, thresholds and tf tables."""
    config = replace(shipped_config(), tf={"name": {"budi santoso": 0.01}, "village": {"cilamaya": 0.05}})
    path = tmp_path / "model.json"
    path.write_text(json.dumps(config.to_dict()))
    again = read_config(path)
    assert again.weights == config.weights and again.tf_weights == config.tf_weights
    assert (again.prior, again.link_threshold, again.review_threshold) == (
        config.prior,
        config.link_threshold,
        config.review_threshold,
    )
    data = config.to_dict()
    data["m"] = {**data["m"], "name": data["m"]["name"][:-1]}
    path.write_text(json.dumps(data))
    with pytest.raises(ValueError, match=f"name needs {LEVELS['name']} levels"):
        read_config(path)
    del data["u"]
    path.write_text(json.dumps(data))
    with pytest.raises(ValueError, match="lacks 'u'"):
        read_config(path)


def test_training_on_a_small_generated_set_is_precise(pii):
    """Unsupervised training on 1,500 enrolments of each generator, then in-memory clustering of other seeds:
    precision at least 0.99 on both."""
    persons: list[Person] = []
    parts = []
    for records in (dedup_data.generate(1500, 11), dedup_noisy_data.generate(1500, 11)):
        people = [person(r, pii) for r in records]
        parts.append(candidate_pairs(people, pii) + len(persons))
        persons += people
    strata = [0] * 1500 + [1] * 1500
    trained = train(persons, np.concatenate(parts), random_pair_count=50_000, strata=strata, link_threshold=0.99)
    config = trained.config
    assert 0 < config.prior < 1 and config.weights["nik"][0] > 0 > config.weights["nik"][-1]
    for source in (Source("data", 12), Source("noisy", 12)):
        data = Scored.of(source, 1500, pii)
        result = quality(data, cluster(data, config, config.link_threshold, 0.5), 0.5)
        assert result["precision"] >= 0.99 and result["recall"] > 0.7, (source.label, result)


def test_candidate_pairs_meet_by_key_value(pii):
    """Pairs are the persons sharing any key value, once, whatever the key's position; a key held by more
    persons than its cap is left out, as matching leaves it out."""
    people = [_named(name) for name in ("Budi Santoso", "Santoso Budi", "Budi", "Agus")]

    def keys(person: Person, _pii) -> dict[str, str | None]:
        return {f"word{k}": f"w:{word}" for k, word in enumerate(person.tokens)} | {"all": "everyone"}

    assert candidate_pairs(people, pii, keys=keys, cap=lambda key: 3).tolist() == [[0, 1], [0, 2], [1, 2]]
    assert len(candidate_pairs(people, pii, keys=keys)) == 6  # "everyone" under no cap pairs all four
