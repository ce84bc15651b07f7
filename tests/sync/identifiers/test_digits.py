"""``sync.identifiers.digits``: one normaliser of typed digits (NFKC, any Unicode decimal digit as ASCII)."""

from __future__ import annotations

import pytest

from sync.identifiers.digits import ascii_digits, digit_string

NIK = "3215011203850001"
FULL_WIDTH = NIK.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
ARABIC_INDIC = NIK.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
DEVANAGARI = NIK.translate(str.maketrans("0123456789", "०१२३४५६७८९"))


@pytest.mark.parametrize("typed", [NIK, FULL_WIDTH, ARABIC_INDIC, DEVANAGARI])
def test_every_decimal_digit_becomes_ascii(typed):
    assert ascii_digits(typed) == NIK
    assert digit_string(typed, length=16) == NIK


def test_other_characters_are_kept_and_nfkc_applies():
    assert ascii_digits(None) == ""
    assert ascii_digits("a\x00b") == "a\x00b"
    assert ascii_digits("²") == "2"  # NFKC: superscript two is the digit two
    assert ascii_digits("፩") == "፩"  # Ethiopic one: numeric, not a decimal digit, stays (and is refused below)


@pytest.mark.parametrize(
    "typed, expected",
    [
        ("3215 0112 0385 0001", NIK),
        ("3215.0112.0385.0001", NIK),
        ("3215-0112-0385-0001", NIK),
        ("'3215011203850001", NIK),  # spreadsheets' text marker
        (" ３２１５－０１１２－０３８５－０００１ ", NIK),
        (NIK + "\x00", None),
        (NIK[:15] + "x", None),
        (NIK[:15], None),
        (NIK + "1", None),
        ("፩" * 16, None),
        ("", None),
        ("1" * 200_000, None),
    ],
)
def test_digit_string_needs_exactly_that_many_digits_and_only_separators(typed, expected):
    assert digit_string(typed, length=16) == expected
