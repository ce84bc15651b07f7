"""The ``jangkau`` command line (docs/api.md "Command line"): database, accounts, demo data and the servers."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys

import click
from cryptography.exceptions import InvalidTag
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext

from sync.accounts.users import create_branch, create_user
from sync.db import ensure_clock
from sync.demo import DEMO_PASSWORD, seed_demo
from sync.errors import InvalidRequest
from sync.pii import PiiKeyError, PiiProtector

from . import config as config_module
from .contest_commands import create_period_command
from .dedup_commands import dedup_sweep, dedup_train, rekey_dedup
from .extensions import db
from .pii import protector
from .scheduler import scheduler_command


def _fail(message: str) -> None:
    raise click.ClickException(message)


def _commit_or_fail(action) -> object:
    try:
        result = action()
        db.session.commit()
        return result
    except InvalidRequest as exc:
        db.session.rollback()
        reasons = "; ".join(f"{field}: {', '.join(msgs)}" for field, msgs in exc.errors.items())
        _fail(f"{exc.detail}: {reasons}")


@click.command("init-db")
@with_appcontext
def init_db() -> None:
    """Create or migrate the database named by DATABASE_URL to the latest schema (idempotent)."""
    from flask_migrate import upgrade

    upgrade(directory=current_app.extensions["migrate"].directory)
    ensure_clock(db.session)
    db.session.commit()
    click.echo("database is at the latest schema")


@click.group("push-archive")
def push_archive() -> None:
    """Read archived push bodies (sealed with the personal-data keys) and re-seal them."""


@push_archive.command("show")
@click.argument("archive_id", type=click.IntRange(1, 2**63 - 1))
@click.option("--reason", required=True, help="why it is read (kept in the access log)")
@with_appcontext
def push_archive_show(archive_id: int, reason: str) -> None:
    """Print one archived push: who, when, outcome, then the body as the phone sent it. Audited."""
    import getpass

    from sync.models import AccessLog
    from sync.protocol.archive import read_archived
    from sync.protocol.clock import now_ms

    try:
        archived = read_archived(db.session, protector(), archive_id)
    except (PiiKeyError, InvalidTag):
        _fail(f"archived push {archive_id} cannot be opened with the configured keys")
    if archived is None:
        _fail(f"no archived push {archive_id}")
    db.session.add(
        AccessLog(
            at=now_ms(),
            user_id=f"cli:{getpass.getuser()}"[:64],
            action="push_archive.view",
            subject_table="push_archive",
            subject_id=str(archive_id),
            detail=reason[:500],
        )
    )
    db.session.commit()
    click.echo(
        f"push {archived.id}: user {archived.user_id} device {archived.device_id} at {archived.received_at} "
        f"→ {archived.status} {archived.outcome}",
        err=True,
    )
    if archived.body is None:
        click.echo("(body not kept: larger than the archive limit)", err=True)
    else:
        sys.stdout.buffer.write(archived.body + b"\n")


@push_archive.command("seal")
@click.option("--batch", default=500, show_default=True, type=click.IntRange(1, 100000))
@with_appcontext
def push_archive_seal(batch: int) -> None:
    """Seal every body still in plain gzip (archived before 0004) or under an older key; resumable."""
    from sync.protocol.archive import reseal_batch

    after, total = 0, 0
    while after is not None:
        after, changed = reseal_batch(db.session, protector(), after_id=after, batch=batch)
        db.session.commit()
        total += changed
    click.echo(f"sealed {total} archived pushes with key {protector().current_key_id}")


@click.command("seed-demo")
@click.option("--agents-per-branch", default=3, show_default=True, type=click.IntRange(1, 50))
@click.option("--visits-per-agent", default=25, show_default=True, type=click.IntRange(0, 10000))
@with_appcontext
def seed_demo_command(agents_per_branch: int, visits_per_agent: int) -> None:
    """Demo branches, agents, supervisors, visits and enrolments; prints the logins."""
    try:
        logins = seed_demo(
            db.session,
            protector(),
            agents_per_branch=agents_per_branch,
            visits_per_agent=visits_per_agent,
            settings=config_module.engine_settings(current_app),
        )
    except ValueError as exc:
        db.session.rollback()
        _fail(str(exc))
    db.session.commit()
    click.echo(f"demo logins (password for all: {DEMO_PASSWORD}):")
    for login in logins:
        click.echo(f"  {login.username:<24} {login.role:<11} {login.branch or ''}")


@click.command("create-branch")
@click.option("--code", required=True)
@click.option("--name", required=True)
@click.option("--kind", required=True, type=click.Choice(["KCU", "KC"]))
@click.option("--lat", required=True, type=float)
@click.option("--lon", required=True, type=float)
@click.option("--region", default=None)
@with_appcontext
def create_branch_command(code, name, kind, lat, lon, region) -> None:
    """Create a branch office (KCU or KC) with its location."""
    branch = _commit_or_fail(
        lambda: create_branch(db.session, code=code, name=name, kind=kind, lat=lat, lon=lon, region=region)
    )
    click.echo(f"created branch {branch.code} ({branch.id})")


@click.command("create-user")
@click.option("--username", required=True)
@click.option("--role", required=True, type=click.Choice(["agent", "supervisor", "admin"]))
@click.option("--branch", "branch_code", default=None, help="branch code (required unless admin)")
@click.option("--full-name", default=None)
@with_appcontext
def create_user_command(username, role, branch_code, full_name) -> None:
    """Create a user; the password is read from standard input, never from the command line."""
    if sys.stdin.isatty():
        password = click.prompt("password", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().rstrip("\n")
    if not password:
        _fail("no password on standard input")
    user = _commit_or_fail(
        lambda: create_user(
            db.session, username=username, password=password, role=role, branch_code=branch_code, full_name=full_name
        )
    )
    click.echo(f"created {user.role} {user.username} ({user.id})")


def _gunicorn(host: str, port: int, workers: int) -> None:
    protector()  # refuse to start without personal-data keys
    if not current_app.config.get("SECRET_KEY"):
        _fail("JANGKAU_SECRET_KEY must be set: it signs supervisors' web sessions")
    argv = [
        "gunicorn",
        "--bind",
        f"{host}:{port}",
        "--workers",
        str(workers),
        "--access-logfile",
        "-",
        # The app answers over-long URLs (414) and headers (431) as problem+json itself, so gunicorn lets
        # them through up to bounded buffers (its field_size 0 would mean 8190, not unlimited).
        "--limit-request-line",
        "0",
        "--limit-request-fields",
        "1000",
        "--limit-request-field_size",
        "32768",
        # A 20 MB payments import streams at about 13,000 lines/s (bench/csv_import.py): well inside 120 s.
        "--timeout",
        "120",
        "--graceful-timeout",
        "30",
        "server.wsgi:app",
    ]
    click.echo("starting: " + shlex.join(argv))
    if current_app.config["SCHEDULER"].lower() not in ("off", "0", "false", "no"):
        # One scheduler process beside gunicorn (not one per worker); it exits with its parent.
        subprocess.Popen([sys.executable, "-m", "server.scheduler", "--exit-with-parent"])
    os.execvp(sys.executable, [sys.executable, "-m", *argv])


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64))
@with_appcontext
def serve(host: str, port: int, workers: int) -> None:
    """Production server (gunicorn)."""
    _gunicorn(host, port, workers)


@click.command("demo")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.pass_context
def demo(ctx, host: str, port: int) -> None:
    """init-db + seed-demo (once) + serve, on the embedded SQLite default."""
    ctx.invoke(init_db)
    from sync.models import User

    if db.session.query(User.id).filter_by(username="admin").first() is None:
        ctx.invoke(seed_demo_command)
    else:
        click.echo(f"demo data already present (password for all: {DEMO_PASSWORD})")
    _gunicorn(host, port, 2)


COMMANDS = [
    init_db,
    rekey_dedup,
    dedup_sweep,
    dedup_train,
    push_archive,
    seed_demo_command,
    create_branch_command,
    create_user_command,
    serve,
    demo,
    scheduler_command,
    create_period_command,
]


def _load_demo_keys() -> None:
    """``jangkau demo`` keeps its keys in instance/jangkau.keys (created once), loaded into the environment."""
    key_file = config_module.instance_dir() / "jangkau.keys"
    if not key_file.exists():
        key_file.parent.mkdir(parents=True, exist_ok=True)
        values = PiiProtector.generate_config() | {"JANGKAU_SECRET_KEY": os.urandom(32).hex()}
        key_file.write_text("".join(f"{k}={v}\n" for k, v in values.items()))
        key_file.chmod(0o600)
    for line in key_file.read_text().splitlines():
        name, _, value = line.partition("=")
        if name and not os.environ.get(name):
            os.environ[name] = value


def main() -> None:
    """Console script entry: Flask's CLI with the app factory."""
    from server import create_app

    if len(sys.argv) > 1 and sys.argv[1] == "demo":
        os.environ.pop("DATABASE_URL", None)  # the demo always runs on the embedded SQLite default
        _load_demo_keys()
    FlaskGroup(create_app=create_app, add_default_commands=True)(prog_name="jangkau")
