"""Measuring a call: wall time plus the CPU time of the app and its PostgreSQL backends, and percentiles."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from .database import APP_NAME
from .harness import Bench


def _on_cpu_ns(pid: int) -> int:
    """Nanoseconds a process (its main thread) has run, from ``/proc/<pid>/schedstat``; 0 once it is gone."""
    try:
        return int(Path(f"/proc/{pid}/schedstat").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 0


@dataclass
class Sample:
    wall: float  # seconds
    app_cpu: float  # seconds of CPU the app used (this process with the test client, else the gunicorn worker)
    db_cpu: float  # seconds of CPU of the PostgreSQL backends serving ``name`` (0 for SQLite: it is in-process)
    result: object = None

    @property
    def cpu(self) -> float:
        return self.app_cpu + self.db_cpu


class CpuMeter:
    """Wall time plus the CPU time spent on both sides, so results survive a busy machine.

    On a shared machine, wall time includes waiting for a CPU; app CPU + database CPU is what the
    request costs, and approximates its latency on an idle machine (minus disk flushes and network).
    """

    def __init__(self, bench: Bench, name: str = APP_NAME, in_process: bool | None = None):
        self.bench, self.name = bench, name
        self.in_process = bench.server is None if in_process is None else in_process
        self.postgres = bench.engine.dialect.name == "postgresql"

    def _backends(self) -> set[int]:
        if not self.postgres:
            return set()
        with self.bench.engine.connect() as conn:
            rows = conn.exec_driver_sql(
                "SELECT pid FROM pg_stat_activity WHERE application_name = %(name)s", {"name": self.name}
            )
            return {pid for (pid,) in rows}

    def _server_pids(self) -> list[int]:
        master = self.bench.server.pid
        try:
            children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
        except OSError:
            children = []
        return [int(pid) for pid in children] or [master]

    def measure(self, fn: Callable[[], object]) -> Sample:
        before_db = {pid: _on_cpu_ns(pid) for pid in self._backends()}
        server = [] if self.in_process else self._server_pids()
        before_app = time.process_time_ns() if self.in_process else sum(_on_cpu_ns(p) for p in server)
        start = time.perf_counter()
        result = fn()
        wall = time.perf_counter() - start
        app = (time.process_time_ns() if self.in_process else sum(_on_cpu_ns(p) for p in server)) - before_app
        db = sum(max(0, _on_cpu_ns(pid) - ns) for pid, ns in before_db.items())
        db += sum(_on_cpu_ns(pid) for pid in self._backends() - set(before_db))  # connections opened meanwhile
        return Sample(wall, app / 1e9, db / 1e9, result)


def timed(fn: Callable[[], object]) -> tuple[float, object]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def percentile(values: Sequence[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default)."""
    ordered = sorted(values)
    if not ordered:
        return math.nan
    pos = (len(ordered) - 1) * q / 100
    low, high = math.floor(pos), math.ceil(pos)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)
