"""NIK (Nomor Induk Kependudukan) checks: hard errors that block, warnings that only inform.

Layout ``PP KK CC DDMMYY SSSS``: province, regency, district of first issue, birth date (day + 40 for
women), serial. ``python-stdnum`` is not used: its code table is old and its century rule is wrong.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

from sync.identifiers.digits import ascii_digits

PROVINCE_CODES = frozenset(
    [*range(11, 20), 21, *range(31, 37), *range(51, 54), *range(61, 66), *range(71, 77), 81, 82, *range(91, 97)]
)


@lru_cache(maxsize=1)
def known_regency_codes() -> frozenset[str]:
    """Kemendagri regency codes without the dot (``3215``), from the shipped region list."""
    regions = json.loads(resources.files("sync.data").joinpath("regions.json").read_text())
    return frozenset(code.replace(".", "") for code in regions["regencies"])


@dataclass
class NikCheck:
    """The outcome of checking one NIK: ``errors`` block an enrolment, ``warnings`` do not."""

    nik: str
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    birth_date: dt.date | None = None
    sex: str | None = None

    @property
    def ok(self) -> bool:
        return not self.errors


def normalize_nik(raw: object) -> str:
    """Keep the digits of what was typed (spaces, dots and dashes are common), as ASCII: a NIK typed in
    full-width or Arabic-Indic digits is the same NIK, with the same blind index (sync.identifiers.digits)."""
    return "".join(ch for ch in ascii_digits(raw) if "0" <= ch <= "9")


def check_nik(raw: object, *, today: dt.date | None = None) -> NikCheck:
    """Check the structure of a NIK and decode its birth date and sex."""
    nik = normalize_nik(raw)
    result = NikCheck(nik=nik)
    if len(nik) != 16:
        result.errors.append(f"NIK harus 16 digit / NIK must have 16 digits (got {len(nik)})")
        return result
    if int(nik[:2]) not in PROVINCE_CODES:
        result.errors.append(f"Kode provinsi {nik[:2]} tidak dikenal / unknown province code {nik[:2]}")
    day, month, year2 = int(nik[6:8]), int(nik[8:10]), int(nik[10:12])
    sex = "F" if day > 40 else "M"
    if sex == "F":
        day -= 40
    if not (1 <= day <= 31):
        result.errors.append("Tanggal lahir di NIK tidak valid / NIK birth day must be 01-31 or 41-71")
    if not (1 <= month <= 12):
        result.errors.append("Bulan lahir di NIK tidak valid / NIK birth month must be 01-12")
    if result.errors:
        return result
    today = today or dt.date.today()
    century = 1900 if year2 > today.year % 100 else 2000
    try:
        result.birth_date = dt.date(century + year2, month, day)
    except ValueError:
        result.errors.append("Tanggal lahir di NIK tidak mungkin / NIK encodes an impossible date")
        return result
    result.sex = sex
    if nik[:4] not in known_regency_codes():
        result.warnings.append(f"Kode kabupaten/kota {nik[:4]} tidak dikenal / unknown regency code")
    if nik[4:6] == "00":
        result.warnings.append("Kode kecamatan 00 / district code 00")
    if nik[12:] == "0000":
        result.warnings.append("Nomor urut 0000 / serial number 0000")
    return result
