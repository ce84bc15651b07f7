"""cProfile of one run, printed as the hotspots overall and where the time goes in the project's own code."""

from __future__ import annotations

import cProfile
import io
import pstats
import sys
import time
from collections.abc import Callable
from pathlib import Path

from . import REPO

PROJECT_DIRS = ("sync/", "server/", "schemas/")


def profile(label: str, fn: Callable[[], object], *, top: int = 25, clock: str = "cpu") -> None:
    """Run ``fn`` under cProfile; print the hotspots by own time (all code) and the project's functions by
    cumulative time (where the time goes in ``sync``/``server``).

    ``clock="cpu"`` counts this process's CPU time only (steady on a busy machine; database waits do not
    show); ``"wall"`` counts elapsed time (waits on the database show under the driver's execute).
    """
    profiler = cProfile.Profile(time.process_time) if clock == "cpu" else cProfile.Profile()
    profiler.enable()
    fn()
    profiler.disable()
    stats = pstats.Stats(profiler, stream=io.StringIO())
    total = stats.total_tt
    rows = []
    for (filename, lineno, func), (_cc, ncalls, tottime, cumtime, _callers) in stats.stats.items():
        rows.append((_where(filename, lineno, func), ncalls, tottime, cumtime, _is_project(filename)))
    print(f"\n#### {label}: {total:.3f} s of {clock} time\n")
    for title, key, only_project in (
        ("own time, all code", 2, False),
        ("cumulative time, project code", 3, True),
    ):
        chosen = sorted((r for r in rows if r[4] or not only_project), key=lambda r: -r[key])[:top]
        print(f"Top {top} by {title}:\n")
        print("```")
        print(f"{'calls':>9} {'own s':>8} {'cum s':>8} {'cum %':>6}  function")
        for where, ncalls, tottime, cumtime, _ in chosen:
            print(f"{ncalls:>9} {tottime:>8.3f} {cumtime:>8.3f} {100 * cumtime / total:>5.1f}%  {where}")
        print("```\n")
    sys.stdout.flush()


def _is_project(filename: str) -> bool:
    path = Path(filename)
    return path.is_relative_to(REPO) and str(path.relative_to(REPO)).startswith(PROJECT_DIRS)


def _where(filename: str, lineno: int, func: str) -> str:
    path = Path(filename)
    if path.is_relative_to(REPO):
        shown = str(path.relative_to(REPO))
    elif "site-packages" in path.parts:
        shown = "/".join(path.parts[path.parts.index("site-packages") + 1 :])
    else:
        shown = path.name if filename.startswith(("/", ".")) else filename
    return f"{shown}:{lineno}({func})" if lineno else f"{func}"
