"""Indonesian phone numbers to E.164 (docs/domain.md "Phone numbers"), always with region ``ID``."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import phonenumbers
from phonenumbers import PhoneNumberType


@dataclass(frozen=True)
class PhoneCheck:
    e164: str | None
    is_mobile: bool
    error: str | None


@lru_cache(maxsize=65536)  # parsing costs 50-200 µs; family phones and re-pushes repeat the same numbers
def check_phone(raw: str | None) -> PhoneCheck:
    """Parse what was typed; ``0062…`` and other non-numbers are errors, landlines are not mobile."""
    if raw is None or not str(raw).strip():
        return PhoneCheck(None, False, None)
    text = str(raw).strip()
    if text.startswith("00"):
        return PhoneCheck(None, False, "Nomor telepon tidak valid / invalid phone number")
    try:
        number = phonenumbers.parse(text, "ID")
    except phonenumbers.NumberParseException:
        return PhoneCheck(None, False, "Nomor telepon tidak valid / invalid phone number")
    if not phonenumbers.is_valid_number(number):
        return PhoneCheck(None, False, "Nomor telepon tidak valid / invalid phone number")
    kind = phonenumbers.number_type(number)
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return PhoneCheck(e164, kind in (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE), None)
