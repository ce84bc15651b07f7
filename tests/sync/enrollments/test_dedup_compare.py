"""Comparison levels per field (sync/enrollments/duplicates/compare.py) on hand-made pairs."""

from __future__ import annotations

import time

import pytest

from sync.enrollments.duplicates.compare import FIELDS, LEVEL_NAMES, LEVELS, compare, serial_gap
from tests.dedup_helpers import comparable


def level(field: str, a: dict, b: dict) -> int | None:
    return compare(comparable(**a), comparable(**b)).levels[field]


def test_every_field_has_named_levels():
    """Each field's levels are named, from full agreement to plainly different."""
    assert set(FIELDS) == {"nik", "name", "birth", "sex", "phone", "village", "address", "occupation"}
    assert all(LEVELS[f] == len(LEVEL_NAMES[f]) >= 2 for f in FIELDS)
    assert compare(comparable(), comparable()).levels == dict.fromkeys(FIELDS, 0)


def test_missing_values_are_neutral():
    """A field missing on either side has no level (it counts neither for nor against)."""
    bare = comparable(
        nik="", name="Muhammad Yusuf", birth=None, sex=None, phone=None, village="", address=None, occupation=None
    )
    levels = compare(bare, comparable()).levels
    assert levels["name"] == 0
    assert all(levels[f] is None for f in FIELDS if f not in ("name", "birth", "sex"))
    # the full record's NIK gives no birth date or sex to the bare one: these stay unknown on that side
    assert levels["birth"] is None and levels["sex"] is None
    assert level("nik", {"nik": "32150112"}, {}) is None  # too short to compare


@pytest.mark.parametrize(
    ("other", "expected", "reason"),
    [
        ("3215011203850007", 0, "same NIK"),
        ("3215011203850907", 2, "NIK differs only in the serial number"),
        ("3215011203950007", 1, "NIK differs in 1 digit"),
        ("3251011203850007", 1, "NIK has 2 adjacent digits swapped"),
        ("321501120385007", 1, "NIK has 1 digit dropped"),
        ("3215011293950007", 3, "NIK differs in 2 digits"),
        ("7371014506900003", 4, "different NIK"),
    ],
)
def test_nik_levels(other, expected, reason):
    comparison = compare(comparable(), comparable(nik=other))
    assert comparison.levels["nik"] == expected and reason in comparison.reasons


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("Muhammad Yusuf", "M. Yusuf", 0),  # variants normalise to one spelling
        ("Budi Santoso", "Santoso, Budi", 1),  # surname first
        ("Budi Santoso", "Budi Santosa", 1),  # one letter
        ("Abdurrahman Wahid", "Abdul Rahman Wahid", 1),  # one word written as two
        ("Budi Santoso Wibowo", "Budi Santoso", 2),  # a part missing
        ("Budi Santoso", "B. Santoso", 2),  # an initial
        ("Budi Santoso", "Budi", 3),  # only a one-word name left
        ("Slamet Riyadi", "Met Riyadi", 4),  # a nickname: part of the name
        ("Bambang Susilo", "Bams Susilo", 4),  # a nickname: the name's start
        ("Eko Ginting", "Siti Ginting", 5),  # relatives: the family name shared, the given name unlike
        ("Dewi Lestari", "Dewi Kusuma", 5),
        ("Budi Santoso", "Agus Setiawan", 6),
    ],
)
def test_name_levels(a, b, expected):
    assert level("name", {"name": a}, {"name": b}) == expected


def test_names_read_from_scans_and_old_papers():
    """Digits read for letters (5iti), rn for m and old spelling still give the same name."""
    assert level("name", {"name": "Siti Painem"}, {"name": "5iti Painem"}) == 0
    assert level("name", {"name": "Imas Damanik"}, {"name": "Irnas Damanik"}) == 1
    assert level("name", {"name": "Soekarno"}, {"name": "Sukarno"}) == 0


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("1985-03-12", "1985-03-12", 0),
        ("1985-03-12", "1985-12-03", 1),  # day and month swapped
        ("1985-03-12", "1985-03-13", 1),  # one digit
        ("1985-03-31", "1985-04-01", 1),  # one day apart
        ("1985-03-12", "1958-03-12", 1),  # year digits swapped
        ("1985-03-12", "1985-01-01", 1),  # only the year known
        ("1985-03-12", "1985-07-20", 2),
        ("1985-03-12", "1990-07-20", 3),
    ],
)
def test_birth_levels(a, b, expected):
    assert level("birth", {"birth": a, "nik": ""}, {"birth": b, "nik": ""}) == expected


def test_birth_from_the_nik():
    """A missing birth date is taken from the NIK; a NIK-encoded date equal to the other's entered one agrees."""
    assert level("birth", {"birth": None}, {"nik": ""}) == 0
    # the entered dates differ, but the first record's NIK encodes the second's date
    assert level("birth", {"birth": "1985-03-21"}, {"nik": "", "birth": "1985-03-12"}) == 0


def test_sex_levels_and_nik_typos():
    """Different sexes count, unless a NIK explains them: its own sex, or a slip in NIKs that carry the sex."""
    assert level("sex", {}, {"sex": "F", "nik": ""}) == 1
    assert level("sex", {}, {"sex": "F"}) is None  # the second record's NIK says M: a typo in the sex
    # no sex entered: each is read off the NIK; a transposition moved the day (25 → 52, a woman's)
    assert level("sex", {"sex": None, "nik": "3471112512910006"}, {"sex": None, "nik": "3471115212910006"}) is None
    # but a day exactly 40 apart, the rest equal, is a man and a woman (twins), not a slip
    assert level("sex", {"sex": None, "nik": "3471110301020008"}, {"sex": None, "nik": "3471114301020008"}) == 1
    assert level("sex", {"sex": None, "nik": "3515026704850016"}, {"sex": None, "nik": "3515022704850012"}) == 1


def test_village_levels():
    assert level("village", {"village": "Desa Suka Maju"}, {"village": "SUKAMAJU"}) == 0
    assert level("village", {"village": "Cilamaya"}, {"village": "Cilamaja"}) == 1
    assert level("village", {"village": "Cilamaya"}, {"village": "Tempuran"}) == 2


@pytest.mark.parametrize(
    ("other", "expected"),
    [
        ("JALAN PELABUHAN NOMOR 3, RT.2/RW.5", 0),  # written another way
        ("Jl. Pelabuhan RT 2 RW 5", 0),  # the number left out
        ("Jl. Pelabuhn No. 3", 0),  # a slip, RT/RW left out
        ("Jl. Plabuhn No. 3", 1),  # more slips
        ("Jl. Pelabuhan No. 15 RT 02/RW 05", 2),  # the neighbours
        ("Dusun Krajan RT 007 RW 001", 3),
        (None, None),
    ],
)
def test_address_levels(other, expected):
    assert level("address", {}, {"address": other}) == expected


def test_occupation_levels():
    assert level("occupation", {"occupation": "Buruh Harian"}, {"occupation": "buruh_harian"}) == 0
    assert level("occupation", {}, {"occupation": "petani"}) == 1
    assert level("occupation", {}, {"occupation": None}) is None


def test_twin_serials_and_the_agreed_values():
    """NIKs of one district and birth date give the serials' distance; exact agreements carry the value."""
    assert serial_gap("3215011203850007", "3215011203850008") == 1
    assert serial_gap("5371012107780013", "7371012107780014") == 1  # and a slip in the district
    assert serial_gap("3215011203850007", "3215011303850008") is None  # another birth date
    comparison = compare(comparable(), comparable())
    assert comparison.name_value == "muhamad yusuf" and comparison.village_value == "cilamaya"


def test_comparison_is_fast():
    """Thousands of pairs per second on one core: a push compares tens of pairs per record."""
    pairs = [
        (comparable(), comparable(name="M. Yusup", nik="3215011203850070", address="Jl Pelabuhan 3")),
        (comparable(), comparable(name="Siti Aminah", sex="F", birth="1990-01-01", nik="", village="Tempuran")),
    ]
    started = time.perf_counter()
    for _ in range(2500):
        for a, b in pairs:
            compare(a, b)
    assert time.perf_counter() - started < 2.0  # about 50 ms on a quiet machine
