"""Values as CSV cells a spreadsheet shows and never runs.

A text cell starting with ``=``, ``+``, ``-`` or ``@`` (or a tab or carriage return, which some
spreadsheets skip before looking for those) is prefixed with ``'``, so it is shown as text instead of
being evaluated as a formula (CSV injection). Numbers the server itself stores (coordinates, distances,
times) are written as numbers: a negative latitude is data, not a formula.
"""

from __future__ import annotations

import time

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(text: str) -> str:
    """``text`` as a spreadsheet shows it literally: a formula-looking start gets a leading ``'``."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def cell(value: object) -> str:
    """One cell: empty for None, ``true``/``false``, numbers as they are, text neutralised.

    Called for every value of an export (tens of millions for a large one): the common cases come first.
    """
    if type(value) is str:
        return "'" + value if value.startswith(FORMULA_STARTS) else value
    if value is None:
        return ""
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    return neutralise(str(value))


def iso_utc(ms: int | None) -> str | None:
    """Epoch milliseconds as ISO 8601 in UTC to the second (``2024-10-24T08:15:00Z``), for people."""
    if ms is None:
        return None
    try:
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ms // 1000))
    except (OverflowError, ValueError, OSError):  # a phone's time beyond what the platform's time holds
        return None
