"""The reminder/follow-up scheduler: APScheduler only ticks; the outbox and its leases do the rest.

``start_scheduler(app)`` runs ticks in a background thread of this process. ``jangkau scheduler``
runs the same alone (``--once``: one tick, then exit). Any number of instances may tick at once.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import secrets
import signal
import socket
import threading

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from sync.db import session_factory
from sync.reminders.channels import build_channel
from sync.reminders.dispatch import TickReport
from sync.reminders.settings import DispatchSettings
from sync.scheduler.tick import tick

from .config import ConfigError, engine_settings
from .extensions import db
from .pii import protector

log = logging.getLogger(__name__)


class Ticker:
    """Everything one process needs to tick: sessions, channel, keys and its instance name."""

    def __init__(self, app: Flask, *, interval_s: float | None = None):
        self.settings: DispatchSettings = engine_settings(app).dispatch  # parsed once, by create_app
        self.dedup = engine_settings(app).dedup
        if interval_s:
            self.settings = dataclasses.replace(self.settings, interval_s=interval_s)
        try:
            self.channel = build_channel(
                self.settings.channel,
                url=self.settings.webhook_url,
                secret=self.settings.webhook_secret,
                timeout_s=self.settings.timeout_s,
            )
        except ValueError as exc:
            raise ConfigError(f"jangkau: {exc}") from exc
        with app.app_context():
            self.factory = session_factory(db.engine)
            self.pii = protector()  # workers' phones are encrypted: no keys, no reminders (stops clearly)
        self.me = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"

    def __call__(self) -> TickReport | None:
        try:
            report = tick(
                self.factory, channel=self.channel, settings=self.settings, pii=self.pii, me=self.me, dedup=self.dedup
            )
        except Exception:  # a tick must never kill the scheduler thread; the next one retries
            log.exception("scheduler tick failed")
            return None
        if report.claimed or report.jobs:
            log.info(
                "tick: claimed %d sent %d failed %d dead %d deferred %d cancelled %d jobs %s",
                report.claimed,
                report.sent,
                report.failed,
                report.dead,
                report.deferred,
                report.cancelled,
                ",".join(report.jobs) or "-",
            )
        return report


def start_scheduler(app: Flask, *, interval_s: float | None = None):
    """Start ticking in a background thread unless ``SCHEDULER`` is off; returns the scheduler or None."""
    if str(app.config.get("SCHEDULER", "on")).lower() in ("off", "0", "false", "no"):
        return None
    import datetime as dt

    from apscheduler.schedulers.background import BackgroundScheduler

    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    ticker = Ticker(app, interval_s=interval_s)
    scheduler = BackgroundScheduler(daemon=True)
    scheduler.add_job(
        ticker,
        "interval",
        seconds=ticker.settings.interval_s,
        id="jangkau-tick",
        max_instances=1,
        coalesce=True,
        next_run_time=dt.datetime.now(dt.UTC),
    )
    scheduler.start()
    log.info("scheduler %s ticking every %ss", ticker.me, ticker.settings.interval_s)
    return scheduler


@click.command("scheduler")
@click.option("--once", is_flag=True, help="run one tick, then exit")
@click.option("--interval", type=click.FloatRange(min=0.05), default=None, help="seconds between ticks")
@click.option("--exit-with-parent", is_flag=True, help="stop when the parent process goes away (serve uses it)")
@with_appcontext
def scheduler_command(once: bool, interval: float | None, exit_with_parent: bool) -> None:
    """The reminder/follow-up scheduler alone (any number may run against one database)."""
    app = current_app._get_current_object()
    if once:
        report = Ticker(app)()
        if report is None:
            raise click.ClickException("the tick failed; see the log")
        click.echo(f"tick: claimed {report.claimed} sent {report.sent} failed {report.failed} dead {report.dead}")
        return
    app.config["SCHEDULER"] = "on"
    scheduler = start_scheduler(app, interval_s=interval)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    parent = os.getppid()
    while not stop.wait(1.0):
        if exit_with_parent and os.getppid() != parent:
            break
    scheduler.shutdown(wait=True)


def main() -> None:
    """``python -m server.scheduler [--once]``: the scheduler without the rest of the CLI."""
    from flask.cli import ScriptInfo

    from . import create_app

    scheduler_command(obj=ScriptInfo(create_app=create_app))


if __name__ == "__main__":
    main()
