"""``jangkau create-period``: a contest period from the command line, branches named by code (docs/api.md)."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from sync.calendar.workdays import DEFAULT_ZONE, ZONES
from sync.contest import periods
from sync.errors import InvalidRequest

from .extensions import db


def _targets(pairs: tuple[str, ...]) -> dict[str, int]:
    """``("KCU-KARAWANG=500", …)`` → ``{branch id: 500}``; a bad pair or unknown code is a usage error."""
    by_code: dict[str, int] = {}
    for pair in pairs:
        code, sep, number = pair.partition("=")
        if not sep or not code or not number.isdigit():
            raise click.BadParameter(f"{pair!r} is not CODE=NUMBER", param_hint="--target")
        if code in by_code:
            raise click.BadParameter(f"{code} is named twice", param_hint="--target")
        by_code[code] = int(number)
    ids = periods.branch_ids_by_code(db.session, by_code)
    unknown = sorted(set(by_code) - set(ids))
    if unknown:
        raise click.BadParameter(f"no branch with code {', '.join(unknown)}", param_hint="--target")
    return {ids[code]: number for code, number in by_code.items()}


@click.command("create-period")
@click.option("--name", required=True)
@click.option("--start", "starts_on", required=True, type=click.DateTime(["%Y-%m-%d"]), help="first day")
@click.option("--end", "ends_on", required=True, type=click.DateTime(["%Y-%m-%d"]), help="last day (inclusive)")
@click.option("--timezone", default=DEFAULT_ZONE, show_default=True, type=click.Choice(ZONES))
@click.option("--target", "targets", multiple=True, metavar="CODE=N", help="a branch's target; repeat per branch")
@with_appcontext
def create_period_command(name, starts_on, ends_on, timezone, targets) -> None:
    """Create a contest period of whole days in its time zone, with targets per branch code."""
    chosen = _targets(targets)
    try:
        period = periods.create_period(
            db.session,
            name=name,
            starts_on=starts_on.date(),
            ends_on=ends_on.date(),
            timezone=timezone,
            targets=chosen,
        )
        summary = f"created period {period.name} ({period.id}): {period.starts_on} to {period.ends_on}, {timezone}"
        db.session.commit()
    except InvalidRequest as exc:
        db.session.rollback()
        reasons = "; ".join(f"{field}: {', '.join(messages)}" for field, messages in exc.errors.items())
        raise click.ClickException(f"{exc.detail}: {reasons}") from None
    click.echo(summary)
