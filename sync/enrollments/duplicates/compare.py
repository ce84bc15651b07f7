"""Field-by-field comparison of two people: a level per field and the words a supervisor reads.

Levels are small integers, 0 = full agreement, the last = plainly different; ``None`` means a side is
missing the field, and the field then counts neither for nor against (never a veto). ``LEVEL_NAMES``
says what each level means. The Fellegi–Sunter weight of each level is learned (``train``) and applied
in ``model``. A push compares tens of pairs per record, so each comparison is a handful of rapidfuzz
calls on values normalised once per person (``Person.build``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from rapidfuzz.distance import OSA, Indel, JaroWinkler, Levenshtein

from sync.enrollments.duplicates.normalize import (
    Address,
    nik_birth,
    occupation_key,
    parse_address,
    significant_tokens,
)

LEVEL_NAMES: dict[str, tuple[str, ...]] = {
    "nik": ("exact", "one digit wrong, dropped or swapped", "only the serial differs", "two edits", "different"),
    "name": (
        "exact",
        "very close",
        "close, words missing or initials",
        "a one-word name found in the other",
        "partly shared, the rest alike (a nickname?)",
        "a word shared, another plainly different (relatives?)",
        "different",
    ),
    "birth": ("exact", "close: day and month swapped, a digit, a day, or only the year", "same year", "different"),
    "sex": ("same", "different"),
    "phone": ("same", "different"),
    "village": ("exact", "similar", "different"),
    "address": ("same", "similar", "partly similar", "different"),
    "occupation": ("same", "different"),
}
FIELDS = tuple(LEVEL_NAMES)
LEVELS = {name: len(labels) for name, labels in LEVEL_NAMES.items()}
# Word similarity (Jaro–Winkler) at which two name words count as one word misspelt.
WORD_MATCH = 0.86
# Written when only the year of birth is known.
PLACEHOLDER_DAYS = frozenset({(1, 1), (12, 31)})


@dataclass(slots=True)
class Person:
    """What matching knows of one side: normalised values only (NIK digits, name words, address parts)."""

    nik: str = ""
    tokens: list[str] = field(default_factory=list)
    birth: dt.date | None = None
    sex: str | None = None
    phone_index: str | None = None
    village: str = ""
    nik_birth: dt.date | None = None
    nik_sex: str | None = None
    address: Address | None = None
    occupation: str = ""
    # Derived once: the name joined, its significant words, the village without spaces.
    name: str = ""
    sorted_name: str = ""
    significant: tuple[str, ...] = ()
    village_compact: str = ""

    @classmethod
    def build(
        cls,
        *,
        nik: str,
        tokens: list[str],
        birth: dt.date | None,
        sex: str | None,
        phone_index: str | None,
        village: str,
        address: object = None,
        occupation: object = None,
    ) -> Person:
        """A person from normalised fields; ``address`` and ``occupation`` as typed (parsed here)."""
        decoded_birth, decoded_sex = nik_birth(nik)
        return cls(
            nik,
            tokens,
            birth,
            sex,
            phone_index,
            village,
            decoded_birth,
            decoded_sex,
            address if isinstance(address, Address) else parse_address(address),
            occupation_key(occupation),
            " ".join(tokens),
            " ".join(sorted(tokens)),
            tuple(significant_tokens(tokens)),
            village.replace(" ", ""),
        )

    @property
    def any_birth(self) -> dt.date | None:
        """The entered birth date, else the one the NIK encodes."""
        return self.birth or self.nik_birth

    @property
    def any_sex(self) -> str | None:
        return self.sex or self.nik_sex


@dataclass(slots=True)
class Comparison:
    levels: dict[str, int | None]
    reasons: list[str]
    name_similarity: float
    serial_gap: int | None = None  # NIKs one district and birth date: how far apart the serials (twins: 1)
    name_value: str | None = None  # the name both sides share exactly (term-frequency adjustment)
    village_value: str | None = None  # the village both sides share exactly


def _nik(a: str, b: str, reasons: list[str]) -> int | None:
    if len(a) < 12 or len(b) < 12:
        return None
    if a == b:
        reasons.append("same NIK")
        return 0
    if len(a) == len(b) == 16 and a[:12] == b[:12]:
        # Only the serial differs: a typo, or people of one district, birth date and sex (twins).
        reasons.append("NIK differs only in the serial number")
        return 2
    osa = OSA.distance(a, b, score_cutoff=3)
    if osa == 1:
        if len(a) != len(b):
            reasons.append("NIK has 1 digit dropped")
        elif Levenshtein.distance(a, b, score_cutoff=2) == 2:
            reasons.append("NIK has 2 adjacent digits swapped")
        else:
            reasons.append("NIK differs in 1 digit")
        return 1
    if osa == 2:
        reasons.append("NIK differs in 2 digits")
        return 3
    reasons.append("different NIK")
    return 4


def _word_similarity(t: str, u: str) -> float:
    if t == u:
        return 1.0
    if len(t) == 1 or len(u) == 1:  # an initial: "M." for Muhammad, "B." for Budi
        return WORD_MATCH if t[0] == u[0] else 0.0
    sim = JaroWinkler.normalized_similarity(t, u)
    if sim >= WORD_MATCH:
        return sim
    if min(len(t), len(u)) >= 4 and OSA.distance(t, u, score_cutoff=1) <= 1:
        return WORD_MATCH  # one slip, even in the first letter (Xiti, Siti), where Jaro–Winkler is harsh
    if "rn" in t or "rn" in u or "cl" in t or "cl" in u:  # read from a scan: rn for m, cl for d
        return max(sim, JaroWinkler.normalized_similarity(_ocr_fold(t), _ocr_fold(u)))
    return sim


def _ocr_fold(word: str) -> str:
    return word.replace("rn", "m").replace("cl", "d")


@dataclass(slots=True)
class NameMatch:
    """How the words of the shorter name pair with the longer one's."""

    mean: float  # mean best similarity of the shorter name's words
    least: float  # the worst of them
    matched: int  # words of the shorter name with a match


def name_similarity(a: list[str] | tuple[str, ...], b: list[str] | tuple[str, ...]) -> NameMatch:
    """Each word of the shorter name paired with its most similar unused word of the longer one, so the
    order of the words does not matter ("Santoso Budi" = "Budi Santoso")."""
    short, long_ = (a, b) if len(a) <= len(b) else (b, a)
    free = list(long_)
    total, least, matched = 0.0, 1.0, 0
    for t in short:
        best, at = 0.0, -1
        for i, u in enumerate(free):
            s = _word_similarity(t, u)
            if s > best:
                best, at = s, i
        total += best
        least = min(least, best)
        if best >= WORD_MATCH:
            matched += 1
            del free[at]
    return NameMatch(total / len(short), least, matched)


def _alike(t: str, u: str) -> bool:
    """Two name words that may be one name written another way: a nickname is often a part of the name
    (Met in Slamet, Ti in Siti) or shares its start (Bams, Bambang); else Jaro–Winkler at least 0.8."""
    short, long_ = (t, u) if len(t) <= len(u) else (u, t)
    return (len(short) >= 2 and short in long_) or t[:3] == u[:3] or JaroWinkler.normalized_similarity(t, u) >= 0.8


def _alike_rest(a: list[str], b: list[str]) -> bool:
    """Whether every word of the shorter name without a match in the longer one is alike some word there."""
    short, long_ = (a, b) if len(a) <= len(b) else (b, a)
    return all(
        any(_alike(t, u) for u in long_) for t in short if max(_word_similarity(t, u) for u in long_) < WORD_MATCH
    )


def _name(a: Person, b: Person, reasons: list[str]) -> tuple[int | None, float]:
    ta, tb = a.tokens, b.tokens
    if not ta or not tb:
        return None, 0.0
    if ta == tb:
        reasons.append("same name")
        return 0, 1.0
    if sorted(ta) == sorted(tb):
        reasons.append("same name, words in another order")
        return 1, 1.0
    match = name_similarity(ta, tb)
    mean, matched = match.mean, match.matched
    shorter = min(len(ta), len(tb))
    extra = abs(len(ta) - len(tb))
    # Letters of the whole name, words sorted (order-free), and without spaces (split or joined words).
    whole = max(Indel.normalized_similarity(a.name, b.name), Indel.normalized_similarity(a.sorted_name, b.sorted_name))
    joined = Indel.normalized_similarity(a.name.replace(" ", ""), b.name.replace(" ", ""))
    if (
        (matched == shorter and extra == 0 and mean >= 0.93 and match.least >= 0.88)
        or joined >= 0.95
        or (extra == 0 and whole >= 0.9)
    ):
        level = 1  # one word misspelt or spelled another way; words split or joined
    elif matched == shorter and (matched >= 2 or extra == 0):
        level = 2  # words missing or abbreviated to initials, or more spelling slips
    elif matched == shorter:
        level = 3  # a one-word name found in the other: Eko / Eko Prasetyo
    elif matched and not _alike_rest(ta, tb):
        level = 5  # a word shared, another unlike anything in the other name: Eko / Siti Ginting
    elif matched or whole >= 0.8:
        level = 4  # some words shared, the rest alike: a nickname (Met for Slamet, Bams for Bambang)
    else:
        level = 6
    sim = max(whole, mean if extra == 0 else mean * (1 - 0.05 * extra))
    detail = {
        1: "very close",
        2: "close",
        3: "one word shared",
        4: "partly shared",
        5: "one word shared, another plainly different",
        6: "different",
    }[level]
    reasons.append(f"name {detail} ({sim:.2f})")
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
    sa, sb = a.isoformat(), b.isoformat()
    if sum(x != y for x, y in zip(sa, sb, strict=True)) == 1:
        reasons.append("birth date differs in 1 digit")
        return 1
    if abs((a - b).days) == 1:
        reasons.append("birth date 1 day apart")
        return 1
    if a.month == b.month and a.day == b.day and OSA.distance(sa[:4], sb[:4]) == 1:
        reasons.append("birth year has 2 digits swapped")
        return 1
    if a.year == b.year and any((d.month, d.day) in PLACEHOLDER_DAYS for d in (a, b)):
        reasons.append("birth date unknown on one side (1 January or 31 December of the same year)")
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
    if level and (
        (a.nik_birth is not None and a.birth is not None and a.nik_birth == b.birth)
        or (b.nik_birth is not None and b.birth is not None and b.nik_birth == a.birth)
    ):
        reasons.append("NIK-encoded birth date equals the other record's")
        return 0
    reasons.extend(entered)
    return level


def _sex(a: Person, b: Person, nik_level: int | None, reasons: list[str]) -> int | None:
    """Sexes compared; a mismatch that a NIK typo may explain is not evidence.

    A side without an entered sex takes its NIK's (day + 40 for women); when the NIKs differ by a slip,
    that slip may be the one that moved the day, so the sexes count only as entered.
    """
    sa, sb = a.any_sex, b.any_sex
    if not sa or not sb:
        return None
    if sa == sb:
        return 0
    if (a.nik_sex and a.nik_sex == sb) or (b.nik_sex and b.nik_sex == sa):
        reasons.append("sex differs, but the NIK's sex agrees")
        return None
    if (not a.sex or not b.sex) and nik_level in (1, 3) and not _day_shifted(a.nik, b.nik):
        reasons.append("sex differs only as the NIKs, which differ by a slip, encode it")
        return None
    reasons.append("different sex")
    return 1


def _day_shifted(a: str, b: str) -> bool:
    """Two NIKs whose days of birth are 40 apart: one man's and one woman's (twins), not a slip."""
    return len(a) == len(b) == 16 and a[6:8].isdigit() and b[6:8].isdigit() and abs(int(a[6:8]) - int(b[6:8])) == 40


def _village(a: Person, b: Person, reasons: list[str]) -> int | None:
    if not a.village or not b.village:
        return None
    if a.village_compact == b.village_compact:  # "Suka Maju" = "Sukamaju"
        reasons.append("same village")
        return 0
    if JaroWinkler.normalized_similarity(a.village_compact, b.village_compact) >= 0.88:
        reasons.append("similar village")
        return 1
    reasons.append("different village")
    return 2


def _same(x: object, y: object) -> bool | None:
    """Whether two optional parts agree; None when either is absent."""
    return None if x is None or y is None else x == y


def _address(a: Address | None, b: Address | None, reasons: list[str]) -> int | None:
    if a is None or b is None:
        return None
    if a.tokens and b.tokens:
        words: float | None = 1.0 if a.tokens == b.tokens else Indel.normalized_similarity(a.text, b.text)
    else:
        words = None
    number = _same(a.number, b.number)
    rt, rw = _same(a.rt, b.rt), _same(a.rw, b.rw)
    parts = [p for p in (number, rt, rw) if p is not None]
    conflicts = parts.count(False)
    agreeing = parts.count(True)
    if words is None and not parts:
        return None  # nothing comparable: words on one side, only numbers on the other
    w = -1.0 if words is None else words
    if conflicts == 0 and (w >= 0.9 or (words is None and agreeing >= 2)) and (agreeing or w == 1.0):
        reasons.append("same address")
        return 0
    if conflicts == 0 and (w >= 0.75 or words is None):
        reasons.append("similar address")
        return 1
    if w >= 0.6 or (rt and rw) or (number and w >= 0.4):
        reasons.append("address partly similar (neighbours?)" if conflicts else "address partly similar")
        return 2
    reasons.append("different address")
    return 3


def compare(a: Person, b: Person) -> Comparison:
    """Compare every field of two people; the reasons are in the order a reviewer reads them."""
    reasons: list[str] = []
    levels: dict[str, int | None] = {"nik": _nik(a.nik, b.nik, reasons)}
    levels["name"], sim = _name(a, b, reasons)
    levels["birth"] = _birth_cross(a, b, reasons)
    levels["sex"] = _sex(a, b, levels["nik"], reasons)
    if a.phone_index and b.phone_index:
        levels["phone"] = int(a.phone_index != b.phone_index)
        reasons.append("same phone" if levels["phone"] == 0 else "different phone")
    else:
        levels["phone"] = None
    levels["village"] = _village(a, b, reasons)
    levels["address"] = _address(a.address, b.address, reasons)
    if a.occupation and b.occupation:
        levels["occupation"] = int(a.occupation != b.occupation)
        reasons.append("same occupation" if levels["occupation"] == 0 else "different occupation")
    else:
        levels["occupation"] = None
    return Comparison(
        levels,
        reasons,
        sim,
        serial_gap(a.nik, b.nik),
        a.name if levels["name"] == 0 else None,
        a.village_compact if levels["village"] == 0 else None,
    )


def serial_gap(a: str, b: str) -> int | None:
    """How far apart the serials of two NIKs are when the rest is one birth date and one district, but
    for at most one slip in the district code (twins are 1 apart); None otherwise or when equal."""
    if len(a) != 16 or len(b) != 16 or a == b or a[6:12] != b[6:12] or not (a[12:] + b[12:]).isdigit():
        return None
    if a[:6] != b[:6] and sum(x != y for x, y in zip(a[:6], b[:6], strict=True)) > 1:
        return None
    return abs(int(a[12:]) - int(b[12:]))
