"""Normalisation of what agents type, so that spelling habits do not hide a person (docs/domain.md).

Names: case, accents, punctuation, titles and honorifics (``H.``, ``Hj.``, ``Drs.``, ``S.Pd.``), the
patronymic after ``bin``/``binti``, old spelling (``oe``→``u``, ``dj``→``j``, ``tj``→``c``), doubled
letters (``Sitti``→``siti``) and the common variants of Muhammad, Ahmad, Abdul and Nur.

Addresses: ``Jl.``/``Jalan``/``Jln.``, ``Gg.``/``Gang``, ``No.``/``Nomor``/``#`` and the other kinds of
place are dropped, RT and RW (``RT 03/RW 05``, ``Rt.3 Rw.5``, ``RT/RW 003/005``, ``RT 002 RW 001``) and the
house number (``No. 12``, or a bare number after the street: ``Gg. Mawar 7``) taken apart, the remaining
words spelled like names.

Names, villages and addresses repeat a great deal across people, and matching normalises every candidate
of a push, so the string functions are memoised (bounded caches of pure functions).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from sync.identifiers.nik import normalize_nik
from sync.identifiers.phone import check_phone

# Titles and honorifics dropped when they lead the name (after punctuation is stripped).
LEADING_TITLES = frozenset(
    """h hj haji hajah hajjah drs dra dr ir prof kh ust ustad ustadz ustaz ustazah ustadzah
    bapak bpk pak ibu bu sdr sdri saudara saudari tn tuan ny nyonya nn nona almarhum alm""".split()
)
# Academic degrees written without dots, dropped when they trail the name.
TRAILING_DEGREES = frozenset(
    """spd spdi sag se sh st skom ssos sip ssi skep sked sfarm shi sth spt mm msi mpd mh mkom mag
    amd amdkep amdkeb mt msc mba phd""".split()
)
# Dotted degrees anywhere: S.Pd., S.Pd.I, M.Si., A.Md., S.E., S.H., S. Kom.
DEGREE_PARTS = "pd|pdi|e|h|hi|t|th|si|sos|kom|ag|ip|kep|keb|ked|farm|pt|m|md|mt|sc|hum|kes|psi|ak|sy"
DOTTED_DEGREE = re.compile(rf"\b(?:s|m|a|d)\.\s?(?:{DEGREE_PARTS})\.?(?:\s?(?:i|{DEGREE_PARTS})\.?)?(?=\s|,|$)")
PATRONYMIC = frozenset({"bin", "binti", "bt", "bte", "bnt"})
# Canonical forms of frequent names, after spelling rules and collapsing doubled letters.
VARIANTS = {
    **dict.fromkeys(
        "m md mh mhd moh mohd moch moc mch muh muhd muhamad mohamad mohamed muhamed mochamad mukhamad muhamat"
        " mohamat mokhamad mukamad muhammad".split(),
        "muhamad",
    ),
    **dict.fromkeys("ahmad akhmad ahmat achmad akmad amad".split(), "ahmad"),
    **dict.fromkeys("abd abdul abdoel".split(), "abdul"),
    **dict.fromkeys("nur nor nurul".split(), "nur"),
    **dict.fromkeys("siti sity".split(), "siti"),
}
# Names so common that they make a poor blocking key on their own.
COMMON_TOKENS = frozenset({"muhamad", "ahmad", "abdul", "nur", "siti", "sri", "dewi", "putri", "putra"})
SPELLING = (("dj", "j"), ("tj", "c"), ("sj", "sy"), ("nj", "ny"), ("oe", "u"), ("ch", "kh"), ("ph", "f"))
VILLAGE_PREFIXES = frozenset({"desa", "ds", "kel", "kelurahan", "dusun", "dsn", "kampung", "kp", "gampong", "nagari"})


# Letters read for digits from a scanned or hastily typed KTP: O for 0, l for 1, S for 5, B for 8 …
NIK_LOOKALIKES = str.maketrans("OoDQIil|LZzSsGbTBgq", "0000111112255667899")


def nik_digits(raw: object) -> str:
    """The digits of a typed NIK (spaces, dots and dashes are common). When the digits alone are not 16 but
    reading look-alike letters as digits makes 16 (``3171043l1206000S``), that reading: the record stays
    invalid (validation sees the letters), but matching compares the NIK the agent meant."""
    digits = normalize_nik(raw)
    if raw is None or len(digits) == 16:
        return digits
    folded = normalize_nik(str(raw).translate(NIK_LOOKALIKES))
    return folded if len(folded) == 16 else digits


def phone_e164(raw: object) -> str | None:
    """E.164 with region ``ID`` (``0812…``, ``62812…``, ``+62 812…`` → ``+62812…``), or None."""
    return check_phone(None if raw is None else str(raw)).e164


def _ascii_lower(text: str) -> str:
    if text.isascii():
        return text.lower()
    text = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in text if not unicodedata.combining(ch)).lower()


@lru_cache(maxsize=65536)
def canonical_token(token: str) -> str:
    """One name word in canonical spelling: old spelling modernised, doubled letters collapsed."""
    for old, new in SPELLING:
        token = token.replace(old, new)
    token = re.sub(r"(.)\1+", r"\1", token)
    if len(token) > 3 and token.endswith("y"):
        token = token[:-1] + "i"
    return VARIANTS.get(token, token)


def name_tokens(raw: object) -> list[str]:
    """Canonical name words, titles, degrees and the patronymic removed; ``[]`` when nothing is left."""
    if raw is None:
        return []
    return list(_name_tokens(str(raw)))


# Digits in a name are misread letters (a scanned KTP: 5iti, Ar1f, B0DI).
NAME_DIGITS = str.maketrans("0134578", "oleastb")


@lru_cache(maxsize=65536)
def _name_tokens(raw: str) -> tuple[str, ...]:
    text = _ascii_lower(raw)
    text = DOTTED_DEGREE.sub(" ", text)
    # "Budi Santoso, S.Pd." (degrees after the comma, dropped above or below) or "Santoso, Budi" (surname first)
    text = text.replace(",", " ").translate(NAME_DIGITS)
    text = re.sub(r"['`’]", "", text)
    words = [w for w in re.split(r"[^a-z]+", text) if w]
    while len(words) > 1 and words[0] in LEADING_TITLES:
        words.pop(0)
    while len(words) > 1 and words[-1] in TRAILING_DEGREES:
        words.pop()
    for i, word in enumerate(words):
        if word in PATRONYMIC and len(words) > 1:
            # "Husein bin Abdullah": the father's name goes; a family name after it stays (Bawazier).
            end = i + 2 + (words[i + 1 : i + 2] in (["abd"], ["abdul"]) and i + 2 < len(words))
            words = words[:i] + words[end:] if i > 0 or end < len(words) else words
            break
    return tuple(canonical_token(w) for w in words)


def significant_tokens(tokens: list[str]) -> list[str]:
    """The tokens that identify: common ones (Muhammad, Siti) dropped unless nothing else is left."""
    rest = [t for t in tokens if t not in COMMON_TOKENS and len(t) > 1]
    return rest or tokens


_PHONETIC = str.maketrans(
    {
        **dict.fromkeys("bpfv", "1"),
        **dict.fromkeys("cgkqjzsx", "2"),
        "d": "3",
        "t": "3",
        "l": "4",
        "m": "5",
        "n": "5",
        "r": "6",
    }
)


def phonetic(token: str) -> str:
    """A Soundex-like key for an Indonesian name word (vowels, h, w and y dropped after the first letter)."""
    if not token:
        return ""
    coded = token.translate(_PHONETIC)
    first = token[0].translate(_PHONETIC)
    out = ["0" if first in "aeiou" else "2" if first in "jy" else first]
    for ch in coded[1:]:
        if ch.isdigit() and ch != out[-1]:
            out.append(ch)
        elif not ch.isdigit():
            out.append("_")
    return "".join(c for c in out if c != "_")[:5]


def village_key(raw: object) -> str:
    """A village name without ``Desa``/``Kel.`` prefixes, punctuation, case or old spelling."""
    return "" if raw is None else _village_key(str(raw))


@lru_cache(maxsize=16384)
def _village_key(raw: str) -> str:
    words = [w for w in re.split(r"[^a-z0-9]+", _ascii_lower(raw)) if w]
    while words and words[0] in VILLAGE_PREFIXES:
        words.pop(0)
    return " ".join(canonical_token(w) for w in words)


def parse_date(raw: object) -> dt.date | None:
    """``YYYY-MM-DD`` or None."""
    if not raw:
        return None
    try:
        return dt.date.fromisoformat(str(raw).strip())
    except ValueError:
        return None


def occupation_key(raw: object) -> str:
    """An occupation as a comparable word (``Buruh Harian`` = ``buruh_harian``), ``""`` when missing."""
    if raw is None:
        return ""
    return "_".join(w for w in re.split(r"[^a-z0-9]+", _ascii_lower(str(raw))) if w)


# Words that name the kind of place, not the place: dropped (the spelled-out forms are the same words).
ADDRESS_KINDS = frozenset(
    """jl jln jalan gg gang no nomor kp kmp kampung perum perumahan prm blok blk komplek kompleks komp dusun dsn
    lt lantai lorong lrg apartemen apt apartment tower twr unit rt rw desa ds kel kelurahan""".split()
)
ADDRESS_SPELLING = {"ry": "raya", "tmn": "taman"}
RT_RW_TEXT = re.compile(
    r"\brt\s*/\s*rw\s*[.:]?\s*(\d{1,3})\s*/\s*(\d{1,3})\b"  # RT/RW 003/005
    r"|\brt\s*[.:]?\s*(\d{1,3})\s*(?:[/,]\s*|\s+)(?:rw\s*[.:]?\s*)?(\d{1,3})\b"  # RT 3/RW 5, RT.03 RW.05, RT 3/5
    r"|\brt\s*[.:]?\s*(\d{1,3})\b"  # RT alone
    r"|\brw\s*[.:]?\s*(\d{1,3})\b"  # RW alone
)
HOUSE_NUMBER_TEXT = re.compile(r"(?:\bno\b|\bnomor\b|#)\s*[.:]?\s*(\d+\s?[a-z]?)\b")
BARE_NUMBER = re.compile(r"^\d+[a-z]?$")
# A number with a letter O or l read for a digit ("RT O06", "No. 1O"): at least one real digit in it.
MISREAD_NUMBER = re.compile(r"\b(?=[0-9ol]*\d)[0-9ol]*[ol][0-9ol]*\b")
MISREAD_DIGITS = str.maketrans("ol", "01")


@dataclass(frozen=True, slots=True)
class Address:
    """An address taken apart: its words (place names, blocks), house number, RT and RW (None if absent)."""

    tokens: tuple[str, ...]
    number: str | None
    rt: int | None
    rw: int | None

    @property
    def text(self) -> str:
        """The words, sorted and joined (what word similarity is measured on)."""
        return " ".join(sorted(self.tokens))


def parse_address(raw: object) -> Address | None:
    """``Jl. Merdeka No. 12 RT 03/RW 05`` → words ``merdeka``, number ``12``, RT 3, RW 5; None when empty."""
    if raw is None:
        return None
    return _parse_address(str(raw))


@lru_cache(maxsize=65536)
def _parse_address(raw: str) -> Address | None:
    text = MISREAD_NUMBER.sub(lambda m: m.group(0).translate(MISREAD_DIGITS), _ascii_lower(raw))
    rt = rw = None
    match = RT_RW_TEXT.search(text)
    if match:
        groups = match.groups()
        if groups[0] is not None:
            rt, rw = int(groups[0]), int(groups[1])
        elif groups[2] is not None:
            rt, rw = int(groups[2]), int(groups[3])
        elif groups[4] is not None:
            rt = int(groups[4])
            rest = RT_RW_TEXT.search(text, match.end())  # "RT 3, Dusun X, RW 5"
            if rest and rest.group(6) is not None:
                rw = int(rest.group(6))
                text = text[: rest.start()] + " " + text[rest.end() :]
        else:
            rw = int(groups[5])
        text = text[: match.start()] + " " + text[match.end() :]
    number = None
    found = HOUSE_NUMBER_TEXT.search(text)
    if found:
        number = found.group(1).replace(" ", "").lstrip("0") or "0"
        text = text[: found.start()] + " " + text[found.end() :]
    words = [w for w in re.split(r"[^a-z0-9]+", text) if w]
    tokens = []
    for i, word in enumerate(words):
        if word in ADDRESS_KINDS:
            continue
        if number is None and BARE_NUMBER.match(word) and (i == 0 or words[i - 1] not in ("lt", "lantai", "blok")):
            number = word.lstrip("0") or "0"  # Gg. Mawar 7, 12 Jalan Sudirman
            continue
        word = ADDRESS_SPELLING.get(word, word)
        tokens.append(canonical_token(word) if word.isalpha() else word.lstrip("0") or "0")
    if not tokens and number is None and rt is None and rw is None:
        return None
    return Address(tuple(tokens), number, rt, rw)


def clear_caches() -> None:
    """Forget memoised names, villages and addresses (benchmarks that seed in-process then measure a cold
    server)."""
    for cached in (canonical_token, _name_tokens, _village_key, _parse_address):
        cached.cache_clear()


def nik_birth(nik: str, today: dt.date | None = None) -> tuple[dt.date | None, str | None]:
    """The birth date and sex a 16-digit NIK encodes (day + 40 for women), or ``(None, None)``."""
    if len(nik) != 16 or not nik.isdigit():
        return None, None
    day, month, year2 = int(nik[6:8]), int(nik[8:10]), int(nik[10:12])
    sex = "F" if day > 40 else "M"
    day -= 40 if sex == "F" else 0
    today = today or dt.date.today()
    century = 1900 if year2 > today.year % 100 else 2000
    try:
        return dt.date(century + year2, month, day), sex
    except ValueError:
        return None, None
