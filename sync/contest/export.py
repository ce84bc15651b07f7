"""The branch table as CSV: the leaderboard's items, one row each, cells a spreadsheet never runs."""

from __future__ import annotations

import csv
import io

from sync.exports.cells import cell

COLUMNS = (
    "rank",
    "branch_id",
    "branch_code",
    "branch_name",
    "kind",
    "region",
    "enrollments",
    "previous_enrollments",
    "growth_pct",
    "previous_to_date",
    "growth_to_date_pct",
    "target",
    "target_pct",
    "active_agents",
)


def leaderboard_csv(board: dict) -> str:
    """A header row, then one row per branch in rank order; empty cells for nulls, text cells neutralised
    (``sync.exports.cells``: a text starting with ``=``, ``+``, ``-`` or ``@`` gets a leading ``'``)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for item in board["items"]:
        writer.writerow([cell(item[name]) for name in COLUMNS])
    return out.getvalue()


def csv_filename(board: dict) -> str:
    """``klasemen-<period start>-<period end>.csv``: dates only, nothing a header could be abused with."""
    period = board["period"]
    return f"klasemen-{period['starts_on']}-{period['ends_on']}.csv"
