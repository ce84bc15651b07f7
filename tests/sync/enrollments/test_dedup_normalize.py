"""Normalisation rules for duplicate matching (sync/enrollments/duplicates/normalize.py), one behaviour per test."""

from __future__ import annotations

import datetime as dt

from sync.enrollments.duplicates.normalize import name_tokens, nik_birth, nik_digits, phone_e164, phonetic, village_key


def test_nik_keeps_digits_only():
    """Spaces, dots and dashes typed inside a NIK are dropped."""
    assert nik_digits("3215 0112.0385-0007") == "3215011203850007"
    assert nik_digits(None) == ""


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
    """``bin``/``binti`` and the father's name after it are ignored."""
    assert name_tokens("Yusuf bin Abdullah") == ["yusuf"]
    assert name_tokens("Aisyah binti Hasan") == ["aisyah"]


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
