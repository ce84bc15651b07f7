"""Blocking keys (sync/enrollments/duplicates/keys.py): any two intact fields still bring two records together."""

from __future__ import annotations

import itertools

import pytest

from sync.enrollments.duplicates.keys import FIELDS, PAIRS, blocking_keys, key_set
from sync.enrollments.duplicates.matcher import person_of

CLEAN = {
    "nik": "3215011203850007",
    "full_name": "Muhammad Yusuf",
    "birth_date": "1985-03-12",
    "village": "Cilamaya",
    "address": "Jl. Pelabuhan No. 3 RT 002/RW 004",
    "phone": "+6281234567890",
}
# Every field spoilt beyond what any key forgives: another NIK (region, date and serial), name, date, place.
SPOILT = {
    "nik": "7371094707610123",
    "full_name": "Sri Wahyuni",
    "birth_date": "1961-07-07",
    "village": "Tamalanrea",
    "address": "Gg. Mawar No. 88 RT 011/RW 009",
    "phone": "+6285299990000",
}
FIELD_OF = {"nik": "nik", "name": "full_name", "birth": "birth_date", "village": "village", "address": "address"}


def record(pii, values: dict, sex: str = "M"):
    return person_of(
        nik=values["nik"],
        full_name=values["full_name"],
        birth_date=values["birth_date"],
        sex=sex,
        phone_index=pii.blind_index("phone", values["phone"]),
        village=values["village"],
        address=values["address"],
    )


def only(pair: tuple[str, ...]) -> dict:
    """The clean record with every field but the two of ``pair`` spoilt."""
    names = [FIELD_OF.get(f, f) for f in FIELDS]
    kept = {FIELD_OF.get(f, f) for f in pair}
    return {name: (CLEAN if name in kept else SPOILT)[name] for name in names}


@pytest.mark.parametrize("pair", list(itertools.combinations(FIELDS, 2)), ids="+".join)
def test_two_intact_fields_share_a_key(pii, pair):
    """For each pair of fields, a record that keeps only those two intact still shares a key with the clean one
    (the key ``PAIRS`` names for the pair), with the sex told differently too."""
    clean = blocking_keys(record(pii, CLEAN), pii)
    spoilt = blocking_keys(record(pii, only(pair), sex="F"), pii)
    kind = PAIRS[frozenset(pair)]
    assert clean[kind] is not None and clean[kind] == spoilt[kind]


def test_nothing_intact_shares_nothing(pii):
    """The spoilt record itself shares no key with the clean one: the test above is not vacuous."""
    assert not key_set(record(pii, CLEAN), pii) & key_set(record(pii, SPOILT), pii)


def test_every_pair_of_fields_has_a_key():
    assert set(PAIRS) == {frozenset(p) for p in itertools.combinations(FIELDS, 2)}


def test_keys_are_keyed_hashes_and_survive_formats(pii):
    """A key is its kind's code letter and a keyed hash, and the ways agents write the same values give the
    same keys."""
    keys = blocking_keys(record(pii, CLEAN), pii)
    assert all(v is None or (len(v) == 17 and int(v[1:], 16) >= 0) for v in keys.values())
    other = CLEAN | {
        "full_name": "YUSUF, MUHAMAD",
        "village": "Desa Cilamaya",
        "address": "Jalan Pelabuhan # 3, RT/RW 02/04",
    }
    assert key_set(record(pii, other), pii) == key_set(record(pii, CLEAN), pii)


def test_a_dropped_word_spoils_one_birth_key(pii):
    """With the birth date intact, a name that lost or gained a word still shares a key."""
    short = record(pii, SPOILT | {"birth_date": CLEAN["birth_date"], "full_name": "Yusuf"})
    long = record(pii, CLEAN | {"full_name": "Muhammad Yusuf Effendi", "nik": SPOILT["nik"]})
    assert key_set(short, pii) & key_set(long, pii)


def test_missing_fields_give_no_key(pii):
    empty = person_of(nik="", full_name=None, birth_date=None, sex=None, phone_index=None, village=None)
    assert key_set(empty, pii) == set()


def test_either_half_of_the_nik_is_a_key(pii):
    """One wrong or dropped digit in either half of the NIK leaves the other half's key."""
    clean = key_set(record(pii, CLEAN), pii)
    head_typo = SPOILT | {"nik": "3295011203850007"}
    tail_typo = SPOILT | {"nik": "3215011203850907", "birth_date": CLEAN["birth_date"]}
    dropped = SPOILT | {"nik": "321501203850007"}
    for values in (head_typo, tail_typo, dropped):
        assert key_set(record(pii, values), pii) & clean


def test_a_common_word_of_the_name_still_meets_with_the_village(pii):
    """Abdul is common, but beside a village it is a key: a misspelt rare word leaves it to carry the match."""
    clean = record(pii, SPOILT | {"full_name": "Abdul Cecep", "village": CLEAN["village"]})
    misspelt = record(pii, SPOILT | {"full_name": "Y. Abdul Tjscep", "village": CLEAN["village"], "nik": CLEAN["nik"]})
    assert blocking_keys(clean, pii)["name_village"] in key_set(misspelt, pii)


def test_an_address_without_its_rt_and_rw_keeps_its_house_key(pii):
    """Street and house number place a house; RT/RW written on one side only spoil nothing."""
    with_rt = record(pii, SPOILT | {"address": "Jalan Veteran no. 140, RT 011/011", "full_name": "Parman"})
    without = record(pii, SPOILT | {"address": "JL Veteran No. 140", "full_name": "Parman", "nik": CLEAN["nik"]})
    assert blocking_keys(with_rt, pii)["word_address"] == blocking_keys(without, pii)["word_address"]
