"""Duplicate-matching commands of ``jangkau``: ``rekey-dedup``, ``dedup-sweep`` and ``dedup-train``.

Each is a thin shell over the engine (``sync.enrollments.duplicates``): it opens the app's session, calls
one function and commits. The sweep commits after every chunk of people, so a long ``--full`` run holds
the sync clock's lock (which pushes wait for) one chunk at a time.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from . import config as config_module
from .config import engine_settings
from .extensions import db
from .pii import protector

DEFAULT_MODEL_FILE = "dedup_model.json"  # in the instance folder, when JANGKAU_DEDUP_CONFIG names none


@click.command("rekey-dedup")
@with_appcontext
def rekey_dedup() -> None:
    """Rebuild the blocking keys (match_keys) of every live enrolment: after upgrading to a release that
    changes them, and once after the upgrade that introduced them (older enrolments have none)."""
    from sync.enrollments.duplicates.rekey import rekey

    counts = rekey(db.session, protector())
    db.session.commit()
    click.echo(
        f"rekeyed {counts['enrollments']} enrolments ({counts['keys']} keys); "
        f"dropped {counts['removed']} keys of deleted enrolments"
    )


@click.command("dedup-sweep")
@click.option("--full", is_flag=True, help="re-score everybody, not only people changed since the last sweep")
@click.option("--chunk", default=500, show_default=True, type=click.IntRange(10, 100_000), help="people per commit")
@with_appcontext
def dedup_sweep(full: bool, chunk: int) -> None:
    """Merge people that are one (recorded automatic links, undoable), give waiting invalid enrolments their
    person and queue review pairs; the scheduler does the same hourly for people changed meanwhile."""
    from sync.enrollments.duplicates.sweep import sweep

    started = time.perf_counter()
    report = sweep(
        db.session,
        protector(),
        engine_settings(current_app).dedup,
        full=full,
        chunk=chunk,
        after_chunk=db.session.commit,
    )
    db.session.commit()
    per = report.pairs / report.workers if report.workers else 0.0
    click.echo(
        f"swept {report.workers} people ({'all' if report.full else f'changed since stamp {report.since}'}) "
        f"in {time.perf_counter() - started:.1f} s: {report.pairs} record pairs compared ({per:.1f} per person), "
        f"{report.linked} merged, {report.claimed} waiting enrolments claimed, {report.queued} review candidates "
        f"queued, {report.keyed} enrolments given keys, {report.conflicts} merges skipped (changed meanwhile)"
    )


@click.command("dedup-train")
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help=f"model file to write (default: JANGKAU_DEDUP_CONFIG, else {DEFAULT_MODEL_FILE} in the instance folder)",
)
@click.option("--seed", default=0, show_default=True, type=int)
@with_appcontext
def dedup_train(output: Path | None, seed: int) -> None:
    """Learn the matching model's weights from the stored enrolments (no labels needed) and write the model
    file; the thresholds are kept from the model in use. Restart the server to use it."""
    from sync.enrollments.duplicates import train as training
    from sync.enrollments.duplicates.keys import key_cap
    from sync.enrollments.duplicates.rekey import live_persons

    target = output or Path(current_app.config.get("DEDUP_CONFIG") or config_module.instance_dir() / DEFAULT_MODEL_FILE)
    current = engine_settings(current_app).dedup
    started = time.perf_counter()
    pii = protector()
    persons = [person for _eid, person in live_persons(db.session, pii)]
    db.session.rollback()  # read only
    if len(persons) < 2:
        raise click.ClickException("training needs at least two stored enrolments")
    pairs = training.candidate_pairs(persons, pii, seed=seed, cap=key_cap)  # the blocks matching uses
    if not len(pairs):
        raise click.ClickException("no two enrolments share a blocking key: nothing to learn from")
    trained = training.train(
        persons,
        pairs,
        seed=seed,
        link_threshold=current.link_threshold,
        review_threshold=current.review_threshold,
    )
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(trained.config.to_dict(), indent=1, sort_keys=True) + "\n")
    click.echo(
        f"trained on {trained.records} enrolments, {trained.blocked_pairs} blocked pairs, "
        f"{trained.random_pairs} random pairs in {time.perf_counter() - started:.1f} s; wrote {target}"
    )
    if not current_app.config.get("DEDUP_CONFIG") or Path(current_app.config["DEDUP_CONFIG"]) != target:
        click.echo(f"the server reads it when started with JANGKAU_DEDUP_CONFIG={target}")


DEDUP_COMMANDS = [rekey_dedup, dedup_sweep, dedup_train]
