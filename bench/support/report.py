"""What a benchmark prints: markdown tables for the README, progress lines, and a note on the machine."""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Iterable, Sequence

from sync.db import make_engine


def fmt_int(value: float) -> str:
    return "n/a" if math.isnan(value) else f"{value:,.0f}"


def print_table(title: str, headers: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    """A markdown table (right-aligned numbers), ready to paste into the README."""
    rows = [[str(cell) for cell in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]
    numeric = [all(_looks_numeric(r[i]) for r in rows) and rows for i in range(len(headers))]

    def line(cells):
        out = [c.rjust(w) if numeric[i] else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True))]
        return "| " + " | ".join(out) + " |"

    print(f"\n### {title}\n")
    print(line(headers))
    print("|" + "|".join(("-" * (w + 1) + ":") if numeric[i] else "-" * (w + 2) for i, w in enumerate(widths)) + "|")
    for row in rows:
        print(line(row))
    sys.stdout.flush()


def _looks_numeric(cell: str) -> bool:
    return bool(cell) and cell.replace(",", "").replace(".", "").replace("x", "").replace("%", "").isdigit()


def load_note(load_before: float) -> str:
    """The machine's load around a run: what a reader needs to weigh the timings."""
    return (
        f"{os.cpu_count()} CPUs; 1-minute load average {load_before:.1f} before loading, "
        f"{os.getloadavg()[0]:.1f} after the timings (other work on the machine inflates every number)."
    )


def progress(message: str) -> None:
    print(f"  .. {message}", file=sys.stderr, flush=True)


def machine_note(urls: dict[str, str]) -> str:
    import platform

    import sqlalchemy

    parts = [
        f"{os.cpu_count()} CPU",
        f"Python {platform.python_version()}",
        f"SQLAlchemy {sqlalchemy.__version__}",
        "load average {:.1f} / {:.1f} / {:.1f} at the end".format(*os.getloadavg()),
    ]
    for kind, url in urls.items():
        if kind == "sqlite":  # the file is gone by now; the library is what counts
            import sqlite3

            parts.append(f"SQLite {sqlite3.sqlite_version}")
            continue
        engine = make_engine(url)
        with engine.connect() as conn:
            parts.append(f"PostgreSQL {conn.exec_driver_sql('SHOW server_version').scalar().split()[0]}")
        engine.dispose()
    return ", ".join(parts)
