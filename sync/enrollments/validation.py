"""Field rules for an enrolment as typed by an agent (docs/sync.md (tables), docs/domain.md).

Errors make the enrolment ``needs_correction`` (it is still stored); warnings are kept for supervisors.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sync.identifiers.nik import NikCheck, check_nik
from sync.identifiers.phone import check_phone

OCCUPATIONS = (
    "nelayan",
    "sopir_angkot",
    "tukang_becak",
    "ojek",
    "pedagang",
    "petani",
    "buruh_harian",
    "ukm",
    "lainnya",
)
PROGRAMS = ("JKK", "JKM", "JHT")
MANDATORY_PROGRAMS = ("JKK", "JKM")
SEX_ALIASES = {"M": "M", "L": "M", "LAKI-LAKI": "M", "F": "F", "P": "F", "PEREMPUAN": "F", "W": "F"}
MAX_INCOME = 1_000_000_000


@dataclass
class EnrollmentCheck:
    """The cleaned values and everything found wrong with them."""

    values: dict
    errors: dict[str, list[str]] = field(default_factory=dict)
    warnings: dict[str, list[str]] = field(default_factory=dict)
    nik_digits: str = ""
    phone_e164: str | None = None

    def error(self, name: str, message: str) -> None:
        self.errors.setdefault(name, []).append(message)

    def warn(self, name: str, message: str) -> None:
        self.warnings.setdefault(name, []).append(message)


def _parse_date(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        return None


def _required(check: EnrollmentCheck, name: str) -> str | None:
    value = check.values.get(name)
    if value is None or not str(value).strip():
        check.error(name, "wajib diisi / required")
        return None
    return str(value).strip()


def _check_identity(check: EnrollmentCheck, today: dt.date) -> None:
    nik = check_nik(check.values.get("nik"), today=today)
    check.nik_digits = nik.nik
    for message in nik.errors:
        check.error("nik", message)
    for message in nik.warnings:
        check.warn("nik", message)
    name = _required(check, "full_name")
    if name is not None:
        check.values["full_name"] = " ".join(name.split())[:200]
    _check_birth_date(check, nik, today)
    _check_sex(check, nik)


def _from_nik(check: EnrollmentCheck, name: str, decoded: object) -> bool:
    """An empty birth date or sex is no error when the NIK is valid: the NIK encodes both (docs/domain.md).
    The column stays empty (nothing is invented in the agent's record); a warning says what stands in."""
    value = check.values.get(name)
    if value is not None and str(value).strip():
        return False
    if decoded is None:
        check.error(name, "wajib diisi / required")
    else:
        check.values[name] = None
        check.warn(name, "tidak diisi, dibaca dari NIK / not entered, read from the NIK")
    return True


def _check_birth_date(check: EnrollmentCheck, nik: NikCheck, today: dt.date) -> None:
    if _from_nik(check, "birth_date", nik.birth_date):
        return
    birth = _parse_date(str(check.values["birth_date"]))
    if birth is None:
        check.error("birth_date", "format harus YYYY-MM-DD / must be a date YYYY-MM-DD")
    elif not (dt.date(1900, 1, 1) <= birth <= today):
        check.error("birth_date", "tanggal lahir tidak mungkin / impossible birth date")
    else:
        check.values["birth_date"] = birth.isoformat()
        if nik.birth_date and nik.birth_date != birth:
            check.warn("birth_date", "berbeda dengan tanggal lahir di NIK / differs from the NIK's birth date")


def _check_sex(check: EnrollmentCheck, nik: NikCheck) -> None:
    if _from_nik(check, "sex", nik.sex):
        return
    sex = SEX_ALIASES.get(str(check.values["sex"]).strip().upper())
    if sex is None:
        check.error("sex", "harus M atau F / must be M or F")
    else:
        check.values["sex"] = sex
        if nik.sex and nik.sex != sex:
            check.warn("sex", "berbeda dengan jenis kelamin di NIK / differs from the sex encoded in the NIK")


def _check_programme(check: EnrollmentCheck) -> None:
    occupation = _required(check, "occupation")
    if occupation is not None:
        normalized = occupation.lower().replace(" ", "_").replace("-", "_")
        if normalized not in OCCUPATIONS:
            check.error("occupation", f"harus salah satu dari / must be one of {', '.join(OCCUPATIONS)}")
        else:
            check.values["occupation"] = normalized
    programs_text = _required(check, "programs")
    if programs_text is not None:
        chosen = [p.strip().upper() for p in programs_text.replace(";", ",").split(",") if p.strip()]
        unknown = [p for p in chosen if p not in PROGRAMS]
        if unknown:
            check.error("programs", f"program tidak dikenal / unknown programme: {', '.join(unknown)}")
        missing = [p for p in MANDATORY_PROGRAMS if p not in chosen]
        if missing:
            check.error("programs", f"JKK dan JKM wajib / JKK and JKM are mandatory (missing {', '.join(missing)})")
        if not unknown:
            check.values["programs"] = ",".join(p for p in PROGRAMS if p in chosen)
    income = check.values.get("monthly_income")
    if income is not None and not (0 <= income <= MAX_INCOME):
        check.error("monthly_income", "penghasilan tidak wajar / income out of range")


def check_enrollment(values: dict, *, today: dt.date | None = None) -> EnrollmentCheck:
    """Validate one enrolment's device columns (already type-coerced)."""
    today = today or dt.date.today()
    check = EnrollmentCheck(values=dict(values))
    _check_identity(check, today)
    phone = check_phone(check.values.get("phone"))
    if phone.error:
        check.error("phone", phone.error)
    elif phone.e164 and not phone.is_mobile:
        check.warn("phone", "bukan nomor seluler, tidak bisa menerima SMS / not a mobile number")
    check.phone_e164 = phone.e164
    _check_programme(check)
    return check
