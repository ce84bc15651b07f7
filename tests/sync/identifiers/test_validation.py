"""What agents type: NIK structure, phone numbers and enrolment fields (docs/domain.md)."""

from __future__ import annotations

import datetime as dt

import pytest

from sync.enrollments.validation import check_enrollment
from sync.identifiers.nik import check_nik
from sync.identifiers.phone import check_phone

TODAY = dt.date(2026, 11, 24)


def test_nik_decodes_birth_date_and_sex():
    man = check_nik("3215011203850001", today=TODAY)
    woman = check_nik("3215015203850001", today=TODAY)
    assert man.ok and man.birth_date == dt.date(1985, 3, 12) and man.sex == "M"
    assert woman.ok and woman.birth_date == dt.date(1985, 3, 12) and woman.sex == "F"


def test_nik_century_rule():
    """YY above the current YY is the 1900s; otherwise the 2000s."""
    assert check_nik("3215011203270001", today=TODAY).birth_date == dt.date(1927, 3, 12)
    assert check_nik("3215011203260001", today=TODAY).birth_date == dt.date(2026, 3, 12)


@pytest.mark.parametrize(
    ("nik", "fragment"),
    [
        ("321501120385001", "16 digit"),
        ("2015011203850001", "province"),
        ("3215013203850001", "birth day"),
        ("3215017203850001", "birth day"),
        ("3215011213850001", "birth month"),
        ("3215013102850001", "impossible date"),
    ],
)
def test_nik_hard_errors(nik, fragment):
    result = check_nik(nik, today=TODAY)
    assert not result.ok and fragment in " ".join(result.errors)


def test_nik_new_papua_provinces_are_valid():
    """Codes 92-96 (and 65) are valid although python-stdnum rejects them."""
    assert check_nik("9601011203850001", today=TODAY).ok
    assert check_nik("6501011203850001", today=TODAY).ok


def test_nik_warnings_do_not_block():
    result = check_nik("3299001203850000", today=TODAY)
    assert result.ok
    joined = " ".join(result.warnings)
    assert "regency" in joined and "district" in joined and "serial" in joined


def test_nik_typed_with_separators():
    assert check_nik("3215 0112 0385 0001", today=TODAY).nik == "3215011203850001"


@pytest.mark.parametrize("raw", ["0812-3456-7890", "62812 3456 7890", "+62 812 3456 7890", "81234567890"])
def test_phone_formats_to_e164(raw):
    result = check_phone(raw)
    assert result.e164 == "+6281234567890" and result.is_mobile and result.error is None


def test_phone_invalid_and_landline():
    assert check_phone("0062812345678").error
    assert check_phone("12").error
    landline = check_phone("021-5551234")
    assert landline.error is None and not landline.is_mobile
    assert check_phone(None).e164 is None and check_phone("  ").error is None


def valid(**overrides):
    values = {
        "nik": "3215011203850001",
        "full_name": "  Budi   Santoso ",
        "birth_date": "1985-03-12",
        "sex": "L",
        "phone": "0812-3456-7890",
        "occupation": "Sopir Angkot",
        "programs": "jkm, jkk, jht",
        "monthly_income": 2000000,
    }
    values.update(overrides)
    return values


def test_enrollment_is_normalised():
    check = check_enrollment(valid(), today=TODAY)
    assert not check.errors
    assert check.values["full_name"] == "Budi Santoso" and check.values["sex"] == "M"
    assert check.values["occupation"] == "sopir_angkot" and check.values["programs"] == "JKK,JKM,JHT"
    assert check.phone_e164 == "+6281234567890"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"full_name": " "}, "full_name"),
        ({"birth_date": "12-03-1985"}, "birth_date"),
        ({"birth_date": "2030-01-01"}, "birth_date"),
        ({"sex": "X"}, "sex"),
        ({"occupation": "astronaut"}, "occupation"),
        ({"programs": "JHT"}, "programs"),
        ({"programs": "JKK,JKM,XYZ"}, "programs"),
        ({"monthly_income": -5}, "monthly_income"),
        ({"phone": "0062812"}, "phone"),
        ({"nik": "123"}, "nik"),
    ],
)
def test_enrollment_errors_name_the_field(overrides, field):
    assert field in check_enrollment(valid(**overrides), today=TODAY).errors


def test_enrollment_warns_when_nik_disagrees():
    check = check_enrollment(valid(birth_date="1985-03-13", sex="F"), today=TODAY)
    assert not check.errors
    assert set(check.warnings) == {"birth_date", "sex"}


@pytest.mark.parametrize("field", ["birth_date", "sex"])
@pytest.mark.parametrize("empty", [None, "", "  "])
def test_birth_date_and_sex_may_be_left_to_a_valid_nik(field, empty):
    check = check_enrollment(valid(**{field: empty}), today=TODAY)
    assert not check.errors
    assert check.values[field] is None  # nothing invented in the agent's record
    assert "NIK" in check.warnings[field][0]


@pytest.mark.parametrize("field", ["birth_date", "sex"])
def test_birth_date_and_sex_are_required_when_the_nik_is_broken(field):
    check = check_enrollment(valid(nik="3215011213850001", **{field: None}), today=TODAY)
    assert set(check.errors) == {"nik", field}
