"""The second synthetic enrolment generator (bench/dedup_noisy_data.py): its output has the first
generator's format, it is deterministic, and each kind of error it promises shows up at about its rate."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import re
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from bench import dedup_noisy_data as noisy
from bench.dedup_noisy_data import MISSING, RATES, NoisyGenerator, generate

N = 2000
SEED = 11
SCRIPT = Path(__file__).resolve().parents[2] / "bench" / "dedup_noisy_data.py"


@pytest.fixture(scope="module")
def made() -> tuple[NoisyGenerator, list[dict]]:
    gen = NoisyGenerator(SEED)
    return gen, gen.run(N)


def _groups(records: list[dict]) -> dict[int, list[dict]]:
    groups = defaultdict(list)
    for r in records:
        groups[r["_person"]].append(r)
    return groups


def _missing(value) -> bool:
    return value is None or value == ""


def _words(name: str) -> list[str]:
    return re.sub(r"[^\w\s]", " ", name.casefold()).split()


def test_same_seed_same_records_other_seed_other_records():
    assert generate(400, seed=3) == generate(400, seed=3)
    assert generate(400, seed=3) != generate(400, seed=4)


def test_records_have_the_first_generators_keys_and_value_formats(made):
    from bench.dedup_data import OCCUPATIONS
    from bench.dedup_data import generate as first_generate

    keys = list(first_generate(20, seed=1)[0])
    _, records = made
    assert len(records) == N
    for r in records:
        assert list(r) == keys
        assert r["nik"] is None or isinstance(r["nik"], str)
        assert isinstance(r["full_name"], str) and r["full_name"].strip()
        assert r["birth_date"] is None or dt.date.fromisoformat(r["birth_date"])
        assert r["sex"] in ("M", "F")
        assert r["phone"] is None or isinstance(r["phone"], str)
        assert r["occupation"] in OCCUPATIONS
        assert r["address"] is None or isinstance(r["address"], str)
        assert r["village"] is None or isinstance(r["village"], str)
        assert r["programs"] == "JKK,JKM" and r["monthly_income"] == 2_000_000
        assert isinstance(r["_person"], int) and 0 <= r["_agent"] < 20
    assert [r["id"] for r in records] == [f"nsy{SEED}x{i:07d}" for i in range(N)]
    assert len({r["_agent"] for r in records}) == 20


def test_group_sizes_are_one_to_five_skewed_towards_one(made):
    _, records = made
    sizes = Counter(len(g) for g in _groups(records).values())
    assert set(sizes) == {1, 2, 3, 4, 5}
    assert sizes[1] > sizes[2] > sizes[3] > sizes[5]


@pytest.mark.parametrize("field", ["birth_date", "address", "village", "phone", "nik"])
def test_each_field_is_missing_at_its_configured_rate(made, field):
    _, records = made
    share = sum(_missing(r[field]) for r in records) / len(records)
    assert 0.10 <= MISSING[field] <= 0.30
    assert abs(share - MISSING[field]) < 0.035, share


def test_one_missing_rate_for_every_field_and_a_name_part_missing():
    gen = NoisyGenerator(SEED, missing=0.3)
    records = gen.run(N)
    for f in ("birth_date", "address", "village", "phone", "nik"):
        assert abs(sum(_missing(r[f]) for r in records) / N - 0.3) < 0.035
    multi = [r for r in records if len(gen.truth[r["_person"]].name.split()) > 1]
    shorter = [r for r in multi if len(r["full_name"].split()) < len(gen.truth[r["_person"]].name.split())]
    assert 0.22 < len(shorter) / len(multi) < 0.40
    with pytest.raises(ValueError):
        NoisyGenerator(1, missing={"nickname": 0.2})


def test_first_enrolments_are_as_often_corrupted_as_clean(made):
    gen, records = made
    firsts = [g[0] for g in _groups(records).values()]
    clean = [gen.first_clean[r["id"]] for r in firsts]
    assert 0.45 < sum(clean) / len(clean) < 0.55
    wrong = 0
    for r in firsts:
        truth = gen.truth[r["_person"]].fields()
        fields = [f for f in truth if not _missing(r[f]) and f != "full_name"]
        if "missing_name_part" not in gen.applied[r["id"]]:
            fields.append("full_name")
        differs = any(r[f] != truth[f] for f in fields)
        if gen.first_clean[r["id"]]:
            assert not differs, r
        wrong += differs
    assert 0.40 < wrong / len(firsts) < 0.55


def test_later_enrolments_inherit_errors_of_earlier_ones(made):
    """A copy made from a copy keeps its source's errors: a later name differs from the truth in a way
    the later record's own errors do not explain, and equals an earlier record's name of that person."""
    gen, records = made
    inherited = 0
    for group in _groups(records).values():
        truth = gen.truth[group[0]["_person"]]
        for k, r in enumerate(group[1:], 1):
            own = [kind for kind in gen.applied[r["id"]] if kind.startswith("name_") or kind == "missing_name_part"]
            earlier = {e["full_name"] for e in group[:k]}
            if not own and r["full_name"] != truth.name and r["full_name"] in earlier:
                inherited += 1
    assert inherited >= 30


def test_given_name_and_surname_swapped_between_enrolments(made):
    _, records = made
    swapped = 0
    for group in _groups(records).values():
        for a, b in itertools.combinations(group, 2):
            wa, wb = _words(a["full_name"]), _words(b["full_name"])
            if len(wa) > 1 and wa != wb and sorted(wa) == sorted(wb):
                swapped += 1
    assert swapped >= 20


def test_every_error_kind_occurs_at_no_more_than_its_rate(made):
    gen, records = made
    counts = Counter(kind for kinds in gen.applied.values() for kind in kinds)
    for kind, rate in RATES.items():
        assert counts[kind] > 0, kind
        assert counts[kind] / N <= rate * 1.25 + 0.005, kind


def test_birth_date_errors_seen_in_the_output(made):
    gen, records = made
    kinds = Counter()
    for r in records:
        if r["birth_date"] is None:
            continue
        got, truth = dt.date.fromisoformat(r["birth_date"]), gen.truth[r["_person"]].birth
        if got == truth:
            continue
        if (got.year, got.month, got.day) == (truth.year, truth.day, truth.month):
            kinds["day_month_swapped"] += 1
        elif abs((got - truth).days) == 1:
            kinds["off_by_one"] += 1
        elif (got.month, got.day) == (truth.month, truth.day):
            kinds["year"] += 1
        elif (got.month, got.day) in ((1, 1), (12, 31)):
            kinds["placeholder"] += 1
    assert all(kinds[k] >= 5 for k in ("day_month_swapped", "off_by_one", "year", "placeholder")), kinds


def test_typos_ocr_phonetic_variants_and_nicknames_seen_in_the_output(made):
    gen, records = made
    neighbours = noisy.KEY_NEIGHBOURS
    keyboard = ocr_nik = ocr_phone = ocr_name = phonetic = nickname = 0
    nicknames = {v.casefold() for values in noisy.NICKNAMES.values() for v in values}
    for r in records:
        truth = gen.truth[r["_person"]]
        name, true_name = r["full_name"].casefold(), truth.name.casefold()
        if len(name) == len(true_name) and name != true_name:
            diff = [(a, b) for a, b in zip(name, true_name, strict=True) if a != b]
            if len(diff) == 1 and diff[0][1] in neighbours and diff[0][0] in neighbours[diff[0][1]]:
                keyboard += 1
        if r["nik"] and re.search(r"[OlISB]", r["nik"]):
            ocr_nik += 1
        if r["phone"] and re.search(r"[OlISB]", r["phone"]):
            ocr_phone += 1
        if re.search(r"rn|cl|[0158]", name) and not re.search(r"rn|cl", true_name):
            ocr_name += 1
        old = ("oe", "dj", "tj", "sj", "ch", "nj")
        if any((o in name) != (o in true_name) for o in old):
            phonetic += 1
        if any(w in nicknames and w not in _words(true_name) for w in _words(r["full_name"])):
            nickname += 1
    assert keyboard >= 20 and ocr_nik >= 10 and ocr_phone >= 5 and ocr_name >= 10, (keyboard, ocr_nik, ocr_name)
    assert phonetic >= 40 and nickname >= 20, (phonetic, nickname)


def test_foreign_names_and_other_address_formats(made):
    gen, records = made
    people = {r["_person"]: gen.truth[r["_person"]] for r in records}
    foreign = [p for p in people.values() if p.origin != "indonesian"]
    assert 0.06 < len(foreign) / len(people) < 0.15
    assert {p.origin for p in foreign} == {"chinese", "indian", "arabic", "western"}
    indonesian_form = re.compile(r"^(Jl\.|Jalan|Jln\.|Gg\.|Gang|Dusun|Kp\.|Perum) ")
    other = [p for p in people.values() if not indonesian_form.match(p.address)]
    assert len(other) >= 0.04 * len(people)
    addresses = [r["address"] for r in records if r["address"]]
    for token in ("Jl.", "Jalan", "Jln.", "Gg.", "Gang", "RT/RW", "RT.", "rt "):
        assert any(token in a for a in addresses), token


def test_no_sex_phone_empties_sex_and_phone_and_keeps_the_rest():
    full = generate(300, seed=5)
    bare = generate(300, seed=5, sex_phone=False)
    assert all(r["sex"] is None and r["phone"] is None for r in bare)
    strip = [{k: v for k, v in r.items() if k not in ("sex", "phone")} for r in full]
    assert strip == [{k: v for k, v in r.items() if k not in ("sex", "phone")} for r in bare]


def test_command_line_writes_json_lines():
    out = subprocess.run(
        [sys.executable, str(SCRIPT), "40", "--seed", "7", "--no-sex-phone"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    records = [json.loads(line) for line in out.splitlines()]
    assert len(records) == 40 and all(r["sex"] is None for r in records)
    assert records == json.loads(json.dumps(generate(40, seed=7, sex_phone=False)))
