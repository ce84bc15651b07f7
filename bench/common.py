"""Shared helpers for the sync benchmarks: arguments, databases, the app, test data, meters, tables, profiles.

The benchmarks drive the real Flask app (``server.create_app``), by default through Werkzeug's test
client: the whole WSGI request path (routing, bearer auth, rate limits, body decoding, JSON, the engine,
the push archive, commit) runs in this process and only the TCP socket is left out. ``--transport
gunicorn`` runs ``gunicorn server.wsgi:app`` on 127.0.0.1 instead. Besides wall time, ``CpuMeter`` reads
the CPU time of the app and of its PostgreSQL backends, which stays meaningful on a shared machine.

Every database given to a benchmark is wiped: all tables are dropped and created again with
``sync.db.create_schema``.
"""

from __future__ import annotations

import argparse
import cProfile
import http.client
import io
import itertools
import json
import math
import os
import pstats
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import delete
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))  # ``tests.factories`` holds the record builders shared with the tests

from server.config import normalize_database_url  # noqa: E402
from sync.db import create_schema, make_engine  # noqa: E402
from sync.models import Base  # noqa: E402
from sync.pii import PiiProtector  # noqa: E402
from sync.protocol.clock import current_stamp, now_ms  # noqa: E402
from tests import factories  # noqa: E402

HOUR_MS, DAY_MS = 3_600_000, 86_400_000
DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1/test_h6"
DATABASES = ("sqlite", "postgresql")
TRANSPORTS = {
    "test-client": "Flask app in-process, Werkzeug test client",
    "gunicorn": "gunicorn, 1 sync worker, on 127.0.0.1",
}
ACCOUNT_TABLES = frozenset({"branches", "users", "devices", "tokens", "sync_clock"})  # kept by clear_records


# ---------------------------------------------------------------- arguments


def parse_args(description: str, configure: Callable[[argparse.ArgumentParser], None] | None = None):
    """The options every benchmark has; ``configure`` adds the script's own."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help="fewer sizes and repetitions (under 30 s)")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL") or DEFAULT_PG_URL,
        help="PostgreSQL database to use; ALL ITS TABLES ARE DROPPED (env BENCH_DATABASE_URL, default %(default)s)",
    )
    parser.add_argument(
        "--databases",
        default=",".join(DATABASES),
        help="comma list of databases to run on: sqlite (a temporary file), postgresql (default: both)",
    )
    parser.add_argument("--repeat", type=int, default=None, help="repetitions per measurement (overrides defaults)")
    parser.add_argument(
        "--transport",
        choices=("test-client", "gunicorn"),
        default="test-client",
        help="test-client: the app in this process through Werkzeug's test client (default); gunicorn: a real "
        "server (one sync worker) on 127.0.0.1, called over TCP with http.client",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="instead of the benchmark, run the path once more under cProfile and print the hotspots",
    )
    parser.add_argument(
        "--profile-clock",
        choices=("cpu", "wall"),
        default="cpu",
        help="what --profile counts: this process's CPU time (default; steady on a busy machine) or wall time",
    )
    if configure:
        configure(parser)
    args = parser.parse_args()
    if args.profile and args.transport != "test-client":
        parser.error("--profile runs the app in this process: use it with --transport test-client")
    args.databases = [d.strip() for d in args.databases.split(",") if d.strip()]
    unknown = set(args.databases) - set(DATABASES)
    if unknown:
        parser.error(f"unknown database kind(s): {', '.join(sorted(unknown))}")
    return args


def database_urls(args) -> dict[str, str]:
    """``{"sqlite": url, "postgresql": url}`` for the kinds asked for; SQLite lives in a temporary directory."""
    urls = {}
    for kind in args.databases:
        if kind == "sqlite":
            urls[kind] = f"sqlite:///{Path(tempfile.mkdtemp(prefix='jangkau-bench-')) / 'bench.db'}"
        else:
            urls[kind] = normalize_database_url(args.database_url)
    return urls


# ---------------------------------------------------------------- databases and the app


APP_NAME = "jangkau-bench-app"  # PostgreSQL application_name of the app's connections (their CPU is metered)
RAW_NAME = "jangkau-bench-raw"  # the benchmark's own connections (the raw-insert baseline)


def connect_args(url: str, name: str) -> dict:
    return {"connect_args": {"application_name": name}} if url.startswith("postgresql") else {}


def fresh_database(url: str) -> Engine:
    """Drop every table, create the schema again (``sync.db.create_schema``) and return an engine."""
    engine = make_engine(url, hide_parameters=True, **connect_args(url, RAW_NAME))
    Base.metadata.drop_all(engine)
    create_schema(engine)
    return engine


def clear_records(engine: Engine) -> None:
    """Empty every table but the accounts (branches, users, devices, tokens) and the clock."""
    with Session(engine) as session, session.begin():
        for table in reversed(Base.metadata.sorted_tables):
            if table.name not in ACCOUNT_TABLES:
                session.execute(delete(table))


def clock_value(engine: Engine) -> int:
    with Session(engine) as session:
        return current_stamp(session)


def analyze(engine: Engine, *, checkpoint: bool = False) -> None:
    """Refresh planner statistics after bulk loads (what autovacuum would do a little later).

    ``checkpoint`` (PostgreSQL) then forces a checkpoint: the pushes measured next pay the full-page
    writes of every index page they touch first, the worst case, which a server meets right after each
    checkpoint. Without it the loaded pages are still dirty from the load, as in the steady state of a
    busy server where most pages were already written since the last checkpoint.
    """
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            auto = conn.execution_options(isolation_level="AUTOCOMMIT")
            auto.exec_driver_sql("ANALYZE")
            if checkpoint:
                auto.exec_driver_sql("CHECKPOINT")
        else:
            conn.exec_driver_sql("ANALYZE")
            conn.commit()


@dataclass
class Bench:
    """One database, the app on it, the test world and a logged-in agent."""

    kind: str
    url: str
    engine: Engine
    app: object
    client: object
    world: factories.World
    api: factories.ApiHelper
    pii: PiiProtector
    server: subprocess.Popen | None = None

    def headers(self, device: str = "bench-phone") -> dict:
        return self.api.headers(self.world.agent_a, device)

    def close(self) -> None:
        from server.extensions import db

        if self.server is not None:
            self.server.terminate()
            self.server.wait(timeout=30)
        with self.app.app_context():
            db.engine.dispose()
        self.engine.dispose()
        if self.kind == "sqlite":  # the temporary directory made by database_urls
            shutil.rmtree(Path(self.url.removeprefix("sqlite:///")).parent, ignore_errors=True)


def app_config(url: str, keys: dict[str, str]) -> dict:
    """What ``tests/conftest.py`` uses, with rate limits out of the way and fresh PII keys."""
    return {
        "SQLALCHEMY_DATABASE_URI": url,
        "SECRET_KEY": "bench-secret",
        "PII_KEYS": keys["JANGKAU_PII_KEYS"],
        "PII_INDEX_KEY": keys["JANGKAU_PII_INDEX_KEY"],
        "LOGIN_RATE_LIMIT": 1_000_000,
        "SYNC_RATE_LIMIT": 1_000_000,
        "IP_RATE_LIMIT": 1_000_000,
        "SCHEDULER": "off",
        # server.config's engine options, plus a name for the connections so their CPU can be metered
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True, "hide_parameters": True, **connect_args(url, APP_NAME)},
    }


def setup_bench(kind: str, url: str, transport: str = "test-client") -> Bench:
    """A wiped database, the app with generated PII keys, two branches of users, agent A logged in."""
    instance = Path(tempfile.gettempdir()) / "jangkau-bench-instance"  # one for every run: gunicorn logs
    instance.mkdir(exist_ok=True)
    os.environ.setdefault("JANGKAU_INSTANCE_DIR", str(instance))
    from server import create_app  # after JANGKAU_INSTANCE_DIR: server.config reads it at import

    engine = fresh_database(url)
    keys = PiiProtector.generate_config()
    with warnings.catch_warnings():  # apispec's schema-name notices say nothing about speed
        warnings.simplefilter("ignore", UserWarning)
        app = create_app(app_config(url, keys))
    logging_quiet()
    with Session(engine, expire_on_commit=False) as session:
        world = factories.make_world(session)
    server = None
    if transport == "gunicorn":
        server, client = start_gunicorn(url, keys)
    else:
        client = app.test_client()
    api = factories.ApiHelper(client, world)
    try:
        api.token(world.agent_a, "bench-phone")
    except BaseException:
        if server is not None:
            server.terminate()
        raise
    pii = PiiProtector.from_config(keys["JANGKAU_PII_KEYS"], keys["JANGKAU_PII_INDEX_KEY"])
    return Bench(kind, url, engine, app, client, world, api, pii, server)


def logging_quiet() -> None:
    import logging

    logging.getLogger().setLevel(logging.WARNING)


# ---------------------------------------------------------------- a real server on loopback


class LoopbackResponse:
    """The bits of Werkzeug's test response the benchmarks use."""

    def __init__(self, status: int, headers: dict[str, str], data: bytes):
        self.status_code, self.headers, self._data = status, headers, data

    def get_data(self, as_text: bool = False):
        return self._data.decode() if as_text else self._data

    def get_json(self):
        return json.loads(self._data)

    @property
    def json(self):
        return self.get_json()


class LoopbackClient:
    """``post``/``get`` like Werkzeug's test client, over TCP to a server on 127.0.0.1 (one connection each)."""

    def __init__(self, port: int):
        self.port = port

    def request(self, method: str, path: str, body: bytes | None, headers: dict) -> LoopbackResponse:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=300)
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            return LoopbackResponse(response.status, dict(response.getheaders()), response.read())
        finally:
            conn.close()

    def post(self, path: str, data: bytes | None = None, json: object = None, headers: dict | None = None):
        headers = dict(headers or {})
        if json is not None:
            data = _json_dumps(json)
            headers["Content-Type"] = "application/json"
        return self.request("POST", path, data, headers)

    def get(self, path: str, query_string: dict | None = None, headers: dict | None = None):
        if query_string:
            path = f"{path}?{urllib.parse.urlencode(query_string)}"
        return self.request("GET", path, None, dict(headers or {}))


def _json_dumps(value: object) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_gunicorn(url: str, keys: dict[str, str]) -> tuple[subprocess.Popen, LoopbackClient]:
    """``gunicorn server.wsgi:app`` with one sync worker on a free loopback port, configured by environment."""
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        **keys,
        "JANGKAU_SECRET_KEY": "bench-secret",
        "JANGKAU_LOGIN_RATE_LIMIT": "1000000",
        "JANGKAU_SYNC_RATE_LIMIT": "1000000",
        "JANGKAU_IP_RATE_LIMIT": "1000000",
        "JANGKAU_SCHEDULER": "off",
        "PGAPPNAME": APP_NAME,  # libpq's variable, honoured by psycopg: names the server's connections
    }
    log_path = Path(os.environ["JANGKAU_INSTANCE_DIR"]) / f"gunicorn-{port}.log"
    with open(log_path, "wb") as log:  # the child keeps its own descriptor
        server = subprocess.Popen(
            [str(Path(sys.executable).with_name("gunicorn")), "--workers", "1", "--timeout", "300"]
            + ["--bind", f"127.0.0.1:{port}", "--chdir", str(REPO), "server.wsgi:app"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    client = LoopbackClient(port)
    deadline = time.monotonic() + 60
    while True:
        try:
            if client.get("/healthz").status_code == 200:
                return server, client
        except OSError:
            pass
        if server.poll() is not None or time.monotonic() > deadline:
            server.terminate()
            raise RuntimeError(f"gunicorn did not start; see {log_path}")
        time.sleep(0.1)


# ---------------------------------------------------------------- records as phones push them

_PERSON = itertools.count(1)
GIVEN = (
    "Budi Siti Agus Dewi Joko Sri Eko Rina Andi Nur Rudi Ani Hendra Wati Yusuf Lina Bambang Ratna Dedi Tuti "
    "Ahmad Fitri Slamet Yanti Wahyu Indah Iwan Mega Rizky Putri Hadi Ayu Teguh Maya Imam Sari Arif Desi Heru Lestari"
).split()
FAMILY = (
    "Santoso Wijaya Saputra Hidayat Kurniawan Setiawan Pratama Siregar Nasution Simanjuntak Lubis Harahap Sitompul "
    "Wibowo Susanto Gunawan Halim Tanjung Pohan Rangkuti Daeng Pattinasarany Manurung Sinaga Purba Ginting Tarigan "
    "Suharto Sukarno Prasetyo Utomo Nugroho Rahman Hakim Syahputra Ramadhan Firmansyah Permana Sembiring Hutapea"
).split()


VILLAGES = (
    "Cilamaya Tempuran Pedes Cibuaya Tirtajaya Batujaya Pakisjaya Jayakerta Rengasdengklok Kutawaluya "
    "Lemahabang Telagasari Majalaya Klari Cikampek Purwasari Tirtamulya Jatisari Banyusari Kotabaru "
    "Cilebar Rawamerta Tegalsari Cilamaya-Kulon Karawang-Barat Karawang-Timur Telukjambe Ciampel Pangkalan Tegalwaru"
).split()


AGENT_DISTRICTS = (1, 2, 3)  # the agent canvasses three kecamatan of the branch's regency
REGENCY_DISTRICTS = tuple(range(1, 31))  # Karawang (3215) has 30
PERMUTE = {False: 1_000_003, True: 999_983}  # primes: they permute the NIK slots, so consecutive people differ
SALT = {False: 0, True: 0x9E3779B9}  # seeded people get other names and birth dates than pushed ones


def person(serial: int, *, seeded: bool = False, phone_prefix: str = "0812") -> dict:
    """A valid, distinct person of Karawang (regency 3215): NIK, name, birth date, sex, phone, village.

    A NIK is ``3215 DD dd MM YY NNNN``: district, birth day (+40 for women), month, year, and a serial
    number that is small in real life (the order of registration among people of one district, birth
    date and sex). So here: the agent's people live in ``AGENT_DISTRICTS`` and get even numbers;
    ``seeded`` people (existing workers) live anywhere in the regency, with odd numbers in the agent's
    districts and even ones elsewhere. NIKs never repeat, while their parts (the dedup blocking keys) are
    shared the way they are in one area. Seeded and pushed serials map to unrelated people: no pushed
    person has a near twin among the seeded ones (a matcher that links them is wrong).
    """
    districts = REGENCY_DISTRICTS if seeded else AGENT_DISTRICTS
    slots = 28 * 12 * 40 * 2 * len(districts)
    block, slot = divmod(serial, slots)
    slot = slot * PERMUTE[seeded] % slots
    day, slot = slot % 28 + 1, slot // 28
    month, slot = slot % 12 + 1, slot // 12
    year, slot = 1960 + slot % 40, slot // 40
    sex, slot = "MF"[slot % 2], slot // 2
    district = districts[slot]
    number = 2 * block + (1 if seeded and district in AGENT_DISTRICTS else 2)
    nik = f"3215{district:02d}{day + (40 if sex == 'F' else 0):02d}{month:02d}{year % 100:02d}{number:04d}"
    mix = (serial * 2_654_435_761 + SALT[seeded]) % 2**32  # Knuth's multiplicative hash: names, villages
    return {
        "nik": nik,
        "full_name": f"{GIVEN[mix % len(GIVEN)]} {FAMILY[mix // len(GIVEN) % len(FAMILY)]}",
        "birth_date": f"{year:04d}-{month:02d}-{day:02d}",
        "sex": sex,
        "phone": f"{phone_prefix}{serial % 100_000_000:08d}",
        "village": VILLAGES[mix // 7 % len(VILLAGES)],
    }


# What agents record at a door (roughly): enrolled 40 %, interested 25 %, not home 15 %, refused 10 %, ...
OUTCOMES = (
    ("enrolled",) * 8 + ("interested",) * 5 + ("not_home",) * 3 + ("refused",) * 2 + ("already_member", "follow_up")
)
VISITS_PER_DAY = 25
KARAWANG = (-6.32, 107.33)


def field_visits(n: int, rng: random.Random) -> list[dict]:
    """``n`` visits of one agent as a phone records them: 08:00-17:00 local time over the past days (at
    most 29, so no ``clock_skew``), walking a few hundred metres between doors around a village a day."""
    per_day = max(VISITS_PER_DAY, -(-n // 29))
    days = -(-n // per_day)
    today = now_ms() // DAY_MS * DAY_MS
    visits, lat, lon = [], *KARAWANG
    for i in range(n):
        day, k = divmod(i, per_day)
        if k == 0:  # a new village every day
            lat, lon = KARAWANG[0] + rng.uniform(-0.12, 0.12), KARAWANG[1] + rng.uniform(-0.15, 0.15)
        lat, lon = lat + rng.uniform(-0.003, 0.003), lon + rng.uniform(-0.003, 0.003)
        start = today - (days - day) * DAY_MS + HOUR_MS  # 08:00 WIB
        visits.append(
            factories.visit(
                visited_at=start + k * (9 * HOUR_MS // per_day) + rng.randrange(60_000),
                latitude=round(lat, 6),
                longitude=round(lon, 6),
                accuracy_m=float(rng.randrange(4, 40)),
                outcome=OUTCOMES[i % len(OUTCOMES)],
                notes=None,
            )
        )
    return visits


def push_changes(n_records: int) -> dict:
    """A WatermelonDB push: half new enrolments of distinct people, half new visits; the ``enrolled``
    visits and their enrolments point at each other."""
    n_enrol = n_records // 2
    first = next(_PERSON)
    visits = field_visits(n_records - n_enrol, random.Random(first))
    enrolments = [factories.enrollment(**person(first if i == 0 else next(_PERSON))) for i in range(n_enrol)]
    for enrolment, visit in zip(enrolments, visits, strict=False):
        if visit["outcome"] == "enrolled":
            enrolment["visit_id"], visit["enrollment_id"] = visit["id"], enrolment["id"]
            enrolment["captured_at"] = visit["visited_at"] + 600_000
    return factories.changes(enrollments={"created": enrolments}, visits={"created": visits})


def push_body(n_records: int) -> bytes:
    return json.dumps({"changes": push_changes(n_records)}, separators=(",", ":")).encode()


def push(bench: Bench, body: bytes, last_pulled_at: int):
    """POST one push body over the app (the body is already serialised, as a phone would have it)."""
    response = bench.client.post(
        f"/api/v1/sync/push?last_pulled_at={last_pulled_at}",
        data=body,
        headers={**bench.headers(), "Content-Type": "application/json"},
    )
    if response.status_code != 200:
        raise RuntimeError(f"push answered {response.status_code}: {response.get_data(as_text=True)[:500]}")
    return response


def pull(bench: Bench, last_pulled_at: int | None = None, device: str = "bench-phone"):
    response = bench.client.get(
        "/api/v1/sync/pull",
        query_string={
            "last_pulled_at": "null" if last_pulled_at is None else last_pulled_at,
            "schema_version": 1,
            "migration": "null",
        },
        headers=bench.headers(device),
    )
    if response.status_code != 200:
        raise RuntimeError(f"pull answered {response.status_code}: {response.get_data(as_text=True)[:500]}")
    return response


# ---------------------------------------------------------------- timing and tables


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


# ---------------------------------------------------------------- profiling


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
