"""Command-line options every benchmark shares, and the database URLs they resolve to."""

from __future__ import annotations

import argparse
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from server.config import normalize_database_url

DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1/test_h6"
DATABASES = ("sqlite", "postgresql")


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
