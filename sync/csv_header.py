"""The header row of an uploaded CSV (payments, the BPJS registry): one way to find the columns.

A column is known by any of its aliases (Indonesian or English, any case, a spreadsheet's byte-order mark
ignored); the first column carrying an alias wins. A header without every required column refuses the file
before any line is read.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping


def column_positions(names: Iterable[str], aliases: Mapping[str, str]) -> dict[str, int]:
    """Each known column's index: ``aliases`` maps a lower-case header text to the column it names."""
    positions: dict[str, int] = {}
    for index, name in enumerate(names):
        column = aliases.get(name.strip().lower().lstrip("\ufeff"))
        if column is not None:
            positions.setdefault(column, index)
    return positions


def missing_columns(positions: Mapping[str, int], required: Iterable[str]) -> dict[str, list[str]]:
    """The header error to report, or ``{}`` when every required column is present."""
    missing = [column for column in required if column not in positions]
    return {"header": [f"kolom hilang / missing columns: {', '.join(missing)}"]} if missing else {}
