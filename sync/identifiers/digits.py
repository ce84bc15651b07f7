"""Digits as people type them: full-width (``３２１５``), Arabic-Indic (``٣٢١٥``), superscripts, any script.

``str.isdigit()`` is true for all of these and for more (``²``, ``፩``) that ``int()`` refuses, so a NIK typed
in full-width digits used to get its own blind index and miss the person it names. Every NIK (and every
number read from an import) goes through ``ascii_digits`` first; ``digit_string`` then accepts exactly
``length`` ASCII digits and nothing but common separators.
"""

from __future__ import annotations

import unicodedata

SEPARATORS = frozenset(" \t.-'")  # 3215 0112…, 3215.0112…, 3215-0112…, and a spreadsheet's leading '


def ascii_digits(text: object) -> str:
    """``text`` in NFKC with every Unicode decimal digit written as its ASCII digit; nothing else changes."""
    if text is None:
        return ""
    normal = unicodedata.normalize("NFKC", str(text))
    if normal.isascii():
        return normal
    return "".join(
        ch if ch.isascii() else str(d) if (d := unicodedata.decimal(ch, None)) is not None else ch for ch in normal
    )


def digit_string(text: object, *, length: int) -> str | None:
    """The ``length`` ASCII digits ``text`` holds when it holds nothing else but separators, else None."""
    if text is None or len(raw := str(text)) > 4 * length:  # separators at most: not worth normalising
        return None
    digits = ascii_digits(raw)
    digits = "".join(ch for ch in digits if ch not in SEPARATORS)
    if len(digits) != length or not (digits.isascii() and digits.isdigit()):
        return None
    return digits
