"""Normalisation rules for duplicate matching (sync/enrollments/duplicates/normalize.py), one behaviour per test."""

from __future__ import annotations

import datetime as dt

import pytest

from sync.enrollments.duplicates.normalize import (
    Address,
    name_tokens,
    nik_birth,
    nik_digits,
    occupation_key,
    parse_address,
    phone_e164,
    phonetic,
    village_key,
)


def test_nik_keeps_digits_only():
    """Spaces, dots and dashes typed inside a NIK are dropped."""
    assert nik_digits("3215 0112.0385-0007") == "3215011203850007"
    assert nik_digits(None) == ""


def test_nik_letters_read_for_digits_only_when_that_makes_16():
    """A scanned or hurried NIK with O for 0, l for 1, S for 5 is compared as the NIK meant; letters that
    would not make 16 digits are only dropped (the record is invalid either way)."""
    assert nik_digits("3171043l1206000S") == "3171043112060005"
    assert nik_digits("32.15.O1.120385.OOO7") == "3215011203850007"
    assert nik_digits("KK 3215 0112") == "32150112"


def test_name_case_and_punctuation():
    """Case, accents and punctuation do not matter; apostrophes join the word."""
    assert name_tokens("BUDI  santoso") == name_tokens("Budi Santoso") == ["budi", "santoso"]
    assert name_tokens("Ma'ruf") == ["maruf"]
    assert name_tokens("André") == ["andre"]


def test_titles_and_honorifics_are_dropped():
    """Leading titles (H., Hj., Drs., Ir., Bapak, Ny.) and degrees (S.Pd., S.E., M.M.) are not part of the name."""
    assert name_tokens("Drs. H. Ahmad Yani, S.Pd.") == ["ahmad", "yani"]
    assert name_tokens("Hj. Aminah") == ["aminah"]
    assert name_tokens("Ir. Hendra Pratama, M.M.") == ["hendra", "pratama"]
    assert name_tokens("Ny. Dewi Lestari") == ["dewi", "lestari"]
    assert name_tokens("Achmad Djunaedi S.Pd.I") == ["ahmad", "junaedi"]


def test_patronymic_after_bin_binti_is_dropped():
    """``bin``/``binti`` and the father's name after it are ignored; a family name after that stays."""
    assert name_tokens("Yusuf bin Abdullah") == ["yusuf"]
    assert name_tokens("Aisyah binti Hasan") == ["aisyah"]
    assert name_tokens("Ahmad bin Abdul Rahman") == ["ahmad"]
    assert name_tokens("Husein bin Abdurrahman Bawazier") == ["husein", "bawazier"]
    assert name_tokens("bin Abdurrahman Bawazier") == ["bawazier"]  # the given name left out


def test_surname_first_and_scanned_digits():
    """ "Santoso, Budi" keeps both words (only degrees after a comma go); digits read for letters are letters."""
    assert name_tokens("Santoso, Budi") == ["santoso", "budi"]
    assert name_tokens("Budi Santoso, SE") == ["budi", "santoso"]
    assert name_tokens("5iti Painem") == ["siti", "painem"]


def test_muhammad_variants():
    """Muhammad, Muhamad, Mohammad, Moh., M. and Mochamad are one name."""
    forms = {tuple(name_tokens(f"{m} Yusuf")) for m in ("Muhammad", "Muhamad", "Mohammad", "Moh.", "M.", "Mochamad")}
    assert forms == {("muhamad", "yusuf")}


def test_nur_siti_and_doubled_letters():
    """Nur/Noer and Siti/Sitti are the same; doubled letters collapse."""
    assert name_tokens("Noer Aini") == name_tokens("Nur Aini")
    assert name_tokens("Sitti Aminah") == name_tokens("Siti Aminah")


def test_old_spelling():
    """Pre-1972 spelling: oe→u, dj→j, tj→c."""
    assert name_tokens("Soekarno") == name_tokens("Sukarno")
    assert name_tokens("Djoko") == name_tokens("Joko")
    assert name_tokens("Tjahjadi") == name_tokens("Cahjadi")


def test_single_word_names():
    """A one-word name stays one token (titles are only removed when something is left)."""
    assert name_tokens("Sutrisno") == ["sutrisno"]
    assert name_tokens("Haji") == ["haji"]


def test_phonetic_key_survives_spelling():
    """The phonetic key ignores vowels and groups similar consonants."""
    assert phonetic("yusuf") == phonetic("jusuf")
    assert phonetic("hendri") == phonetic(name_tokens("Hendry")[0])


def test_phones_to_e164():
    """Every common way of typing an Indonesian mobile gives the same E.164."""
    forms = ["0812-3456-7890", "6281234567890", "+62 812 3456 7890", "81234567890"]
    assert {phone_e164(f) for f in forms} == {"+6281234567890"}
    assert phone_e164("0062812345678") is None


def test_villages():
    """Desa/Ds./Kel. prefixes, case and old spelling do not matter."""
    assert village_key("Desa Cilamaya Wetan") == village_key("CILAMAYA WETAN") == "cilamaya wetan"
    assert village_key("Ds. Tjilamaya") == village_key("Kel. Cilamaya")


def test_nik_encodes_birth_and_sex():
    """The NIK's DDMMYY (day + 40 for women) gives birth date and sex."""
    assert nik_birth("3215015203850011") == (dt.date(1985, 3, 12), "F")
    assert nik_birth("3215011203850007") == (dt.date(1985, 3, 12), "M")
    assert nik_birth("32150112038500") == (None, None)


@pytest.mark.parametrize(
    ("raw", "parsed"),
    [
        ("Jl. Merdeka No. 12 RT 03/RW 05", Address(("merdeka",), "12", 3, 5)),
        ("Gg. Mawar 7 Rt.3 Rw.5", Address(("mawar",), "7", 3, 5)),
        ("Dusun Krajan RT 002 RW 001", Address(("krajan",), None, 2, 1)),
        ("DSN. KRAJAN, RT/RW 002/001", Address(("krajan",), None, 2, 1)),
        ("RT 3, Dusun Krajan, RW 5", Address(("krajan",), None, 3, 5)),
        ("Perum Taman Sari Blok G3 no. 88", Address(("taman", "sari", "g3"), "88", None, None)),
        ("Prm. Tmn. Sari Blk. G3", Address(("taman", "sari", "g3"), None, None, None)),
        ("Gg. Melati No. 36A RT13/RW03", Address(("melati",), "36a", 13, 3)),
        ("Jl. Gajah Mada No. 39A RT/RW 011/O08", Address(("gajah", "mada"), "39a", 11, 8)),
        ("Gang Sawo IV No 24, RT O06/RW 006", Address(("sawo", "iv"), "24", 6, 6)),
        ("123 Jalan Sudirman", Address(("sudirman",), "123", None, None)),
        ("Jl. Kebon Djeruk Raya", Address(("kebon", "jeruk", "raya"), None, None, None)),
        ("", None),
        (None, None),
    ],
)
def test_addresses_taken_apart(raw, parsed):
    """Kinds of place (Jl., Gg., Dusun, Perum, Blok…) go; house number, RT and RW are read however written."""
    assert parse_address(raw) == parsed


def test_occupations():
    assert occupation_key("Buruh Harian") == occupation_key("buruh_harian") == "buruh_harian"
    assert occupation_key(None) == ""
