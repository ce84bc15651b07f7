"""Field-by-field comparison of two people: a level per field and the words a supervisor reads.

Levels are small integers, 0 = full agreement; ``None`` means a side is missing the field (the
field then counts neither for nor against). The Fellegi–Sunter weights per level live in ``model``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from rapidfuzz.distance import OSA, JaroWinkler, Levenshtein

from sync.enrollments.duplicates.normalize import nik_birth, significant_tokens

FIELDS = ("nik", "name", "birth", "sex", "phone", "village")
LEVELS = {"nik": 5, "name": 5, "birth": 4, "sex": 2, "phone": 2, "village": 3}


@dataclass
class Person:
    """What matching knows of one side: normalised values only (no raw PII beyond the NIK digits)."""

    nik: str = ""
    tokens: list[str] = field(default_factory=list)
    birth: dt.date | None = None
    sex: str | None = None
    phone_index: str | None = None
    village: str = ""
    nik_birth: dt.date | None = None
    nik_sex: str | None = None

    @classmethod
    def build(cls, *, nik, tokens, birth, sex, phone_index, village) -> Person:
        decoded_birth, decoded_sex = nik_birth(nik)
        return cls(nik, tokens, birth, sex, phone_index, village, decoded_birth, decoded_sex)

    @property
    def any_birth(self) -> dt.date | None:
        """The entered birth date, else the one the NIK encodes."""
        return self.birth or self.nik_birth

    @property
    def any_sex(self) -> str | None:
        return self.sex or self.nik_sex


@dataclass
class Comparison:
    levels: dict[str, int | None]
    reasons: list[str]
    name_similarity: float
    first_names_differ: bool = False  # both full names, different given names: relatives, not typos
    serial_gap: int | None = None  # NIKs equal but for the serial: how far apart (twins are 1 apart)


def _nik(a: str, b: str, reasons: list[str]) -> int | None:
    if len(a) < 12 or len(b) < 12:
        return None
    if a == b:
        reasons.append("same NIK")
        return 0
    if len(a) == len(b) == 16 and a[:12] == b[:12]:
        # Only the serial differs: what twins and siblings registered together look like.
        reasons.append("NIK differs only in the serial number")
        return 2
    osa = OSA.distance(a, b)
    if osa == 1:
        if len(a) != len(b):
            reasons.append("NIK has 1 digit dropped")
        elif Levenshtein.distance(a, b) == 2:
            reasons.append("NIK has 2 adjacent digits swapped")
        else:
            reasons.append("NIK differs in 1 digit")
        return 1
    if osa == 2:
        reasons.append("NIK differs in 2 digits")
        return 3
    reasons.append("different NIK")
    return 4


def name_similarity(a: list[str], b: list[str]) -> tuple[float, float, bool]:
    """(whole-name similarity, first-word similarity, one name's words contained in the other's)."""
    plain = JaroWinkler.normalized_similarity(" ".join(a), " ".join(b))
    ordered = JaroWinkler.normalized_similarity(" ".join(sorted(a)), " ".join(sorted(b)))
    short, long_ = (a, b) if len(a) <= len(b) else (b, a)
    aligned = sum(max(JaroWinkler.normalized_similarity(t, u) for u in long_) for t in short) / len(short)
    aligned *= 1 - 0.04 * (len(long_) - len(short))
    first = JaroWinkler.normalized_similarity(a[0], b[0])
    subset = set(short) <= set(long_)
    return max(plain, ordered, aligned), first, subset


def _name(a: list[str], b: list[str], reasons: list[str]) -> tuple[int | None, float]:
    if not a or not b:
        return None, 0.0
    if a == b:
        reasons.append("same name")
        return 0, 1.0
    sa, sb = significant_tokens(a), significant_tokens(b)
    sim, first, subset = name_similarity(sa, sb)
    subset = subset or set(a) <= set(b) or set(b) <= set(a)
    if sim >= 0.92 and first >= 0.88:
        level = 1
    elif (subset and len(set(a) & set(b)) >= 1) or (sim >= 0.85 and first >= 0.8):
        level = 2
    elif sim >= 0.7:
        level = 3
    else:
        level = 4
    reasons.append(f"name {sim:.2f}" + (", first name differs" if first < 0.8 else ""))
    return level, sim


def _birth(a: dt.date | None, b: dt.date | None, reasons: list[str]) -> int | None:
    if a is None or b is None:
        return None
    if a == b:
        reasons.append("same birth date")
        return 0
    if a.year == b.year and a.day == b.month and a.month == b.day:
        reasons.append("birth day and month swapped")
        return 1
    if sum(x != y for x, y in zip(a.isoformat(), b.isoformat(), strict=True)) == 1:
        reasons.append("birth date differs in 1 digit")
        return 1
    if a.year == b.year:
        reasons.append("same birth year")
        return 2
    reasons.append("different birth date")
    return 3


def _birth_cross(a: Person, b: Person, reasons: list[str]) -> int | None:
    """Entered birth dates compared, and each NIK's encoded date against the other's entered one.

    A typo in the NIK's date digits or in the entered date spoils only one of these: the best wins.
    """
    entered: list[str] = []
    level = _birth(a.any_birth, b.any_birth, entered)
    cross = [(x.nik_birth, y.birth) for x, y in ((a, b), (b, a)) if x.nik_birth and y.birth and x.birth]
    if level and any(n == e for n, e in cross):
        reasons.append("NIK-encoded birth date equals the other record's")
        return 0
    reasons.extend(entered)
    return level


def _sex(a: Person, b: Person, reasons: list[str]) -> int | None:
    """Sexes compared; a mismatch that one side's own NIK contradicts is a typo, not evidence."""
    sa, sb = a.any_sex, b.any_sex
    if not sa or not sb:
        return None
    if sa == sb:
        return 0
    if (a.nik_sex and a.nik_sex == sb) or (b.nik_sex and b.nik_sex == sa):
        reasons.append("sex differs, but the NIK's sex agrees")
        return None
    reasons.append("different sex")
    return 1


def compare(a: Person, b: Person) -> Comparison:
    """Compare every field of two people; the reasons are in the order a reviewer reads them."""
    reasons: list[str] = []
    levels: dict[str, int | None] = {"nik": _nik(a.nik, b.nik, reasons)}
    levels["name"], sim = _name(a.tokens, b.tokens, reasons)
    levels["birth"] = _birth_cross(a, b, reasons)
    levels["sex"] = _sex(a, b, reasons)
    if a.phone_index and b.phone_index:
        levels["phone"] = int(a.phone_index != b.phone_index)
        reasons.append("same phone" if levels["phone"] == 0 else "different phone")
    else:
        levels["phone"] = None
    if a.village and b.village:
        if a.village == b.village:
            levels["village"] = 0
            reasons.append("same village")
        else:
            levels["village"] = 1 if JaroWinkler.normalized_similarity(a.village, b.village) >= 0.88 else 2
            reasons.append("similar village" if levels["village"] == 1 else "different village")
    else:
        levels["village"] = None
    gap = abs(int(a.nik[12:]) - int(b.nik[12:])) if levels["nik"] == 2 else None
    return Comparison(levels, reasons, sim, _first_names_differ(a.tokens, b.tokens), gap)


def _first_names_differ(a: list[str], b: list[str]) -> bool:
    """ "Siti Ginting" vs "Eko Ginting": two multi-word names whose given names are unrelated words."""
    if len(a) < 2 or len(b) < 2 or len(a[0]) < 2 or len(b[0]) < 2:
        return False
    return a[0] not in b and b[0] not in a and JaroWinkler.normalized_similarity(a[0], b[0]) < 0.75
