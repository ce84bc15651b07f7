"""A push's visits in the context of the agent's other visits, and the re-flagging of those visits.

Visits arrive late and out of order: a visit from last Tuesday, pushed today, lands between two visits
already stored and can change their ``impossible_travel`` flags and that day's ``stacked_location``. So
every push reads, in **one** query, the agent's visits around the pushed times, recomputes the sequence
flags over the pushed and stored visits together, and updates the stored rows whose flags changed with
the push's stamp, so phones pull the change (docs/sync.md "The clock"). Deletions are handled the same way by an
``after_apply`` step (``refresh_after_delete``).

How far to look: a leg longer than ``travel_window_ms`` can never be too fast inside the box, so a change
moves flags at most ``settings.reach_ms`` away in time, and a visit's flags are exact when everything
within ``reach_ms`` of it is known. Hence: load ``2 * reach`` around the pushed times, update within
``reach``. Stored rows further away are neither read nor touched.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from sync.geo.timezones import offset_ms
from sync.models import Visit
from sync.protocol.context import PushContext
from sync.visits.enrich import enrich_visits
from sync.visits.flags import SEQUENCE_FLAGS, Reasons, dump_reasons, join_flags, load_reasons, split_flags
from sync.visits.sequence import Track, day_numbers, sequence_reasons
from sync.visits.settings import GeoSettings
from sync.writes import load_by_ids

_WINDOW_COLUMNS = (
    Visit.id,
    Visit.visited_at,
    Visit.latitude,
    Visit.longitude,
    Visit.timezone,
    Visit.flags,
    Visit.flag_reasons,
)


def process_pushed_visits(
    session: Session,
    ctx: PushContext,
    rows: list[dict],
    existing: dict[str, dict],
    settings: GeoSettings | None = None,
) -> None:
    """Fill the server columns and flags of a push's visit rows in place (before they are written),
    and re-flag the agent's stored visits whose sequence flags the push changes. The thresholds are the
    push's (``ctx.settings.geo``) unless ``settings`` are given."""
    settings = settings or ctx.settings.geo
    received = []
    for row in rows:
        before = existing.get(row["id"]) or {}
        received.append(row.get("server_created_at") or before.get("server_created_at") or ctx.stamp)
    columns, reasons = enrich_visits(
        rows, branch_location=ctx.branch_location, received_at=received, now=ctx.stamp, settings=settings
    )
    for row, values in zip(rows, columns, strict=True):
        row.update(values)
    old_times = [
        before["visited_at"]
        for before in (existing.get(row["id"]) for row in rows)
        if before and before.get("deleted_at") is None and before.get("visited_at") is not None
    ]
    sequence = resequence(session, ctx, settings, rows, old_times)
    for row, own, extra in zip(rows, reasons, sequence, strict=True):
        own.update(extra)
        row["flags"] = join_flags(own)
        row["flag_reasons"] = dump_reasons(own)


def refresh_after_delete(session: Session, ctx: PushContext) -> None:
    """``after_apply`` step: re-flag the neighbours of visits this push deleted."""
    deleted = ctx.applied.deleted_ids("visits")
    if not deleted:
        return
    rows = load_by_ids(session, Visit, deleted, Visit.id, Visit.agent_id, Visit.visited_at)
    times = [
        r["visited_at"] for r in rows.values() if r["agent_id"] == ctx.principal.user_id and r["visited_at"] is not None
    ]
    if times:
        resequence(session, ctx, ctx.settings.geo, [], times)


def on_track(row: dict, settings: GeoSettings) -> bool:
    """Whether a visit takes part in the sequence rules: a time, and coordinates inside the box.

    Visits outside the box already carry ``outside_indonesia``; leaving them out bounds the distance of
    any leg, and so how far back and ahead a push must look.
    """
    lat, lon, t = row.get("latitude"), row.get("longitude"), row.get("visited_at")
    if lat is None or lon is None or t is None or not (math.isfinite(lat) and math.isfinite(lon)):
        return False
    return settings.south <= lat <= settings.north and settings.west <= lon <= settings.east


def resequence(
    session: Session, ctx: PushContext, settings: GeoSettings, pushed: Sequence[dict], old_times: Sequence[int]
) -> list[Reasons]:
    """Sequence reasons for the pushed rows; stored neighbours whose flags change are updated.

    ``old_times`` are the previous ``visited_at`` of visits this push moved, blanked or deleted: their
    old neighbours must be looked at too.
    """
    result: list[Reasons] = [{} for _ in pushed]
    mine = [i for i, row in enumerate(pushed) if on_track(row, settings)]
    times = [pushed[i]["visited_at"] for i in mine] + list(old_times)
    if not times:
        return result
    reach = settings.reach_ms
    first, last = min(times), max(times)
    pushed_ids = {row["id"] for row in pushed}
    stored = [
        dict(r)
        for r in session.execute(
            select(*_WINDOW_COLUMNS).where(
                Visit.agent_id == ctx.principal.user_id,
                Visit.deleted_at.is_(None),
                Visit.visited_at.between(first - 2 * reach, last + 2 * reach),
            )
        ).mappings()
        if r["id"] not in pushed_ids
    ]
    stored_on_track = [r for r in stored if on_track(r, settings)]
    members = [pushed[i] for i in mine] + stored_on_track
    reasons = sequence_reasons(_track(members), settings)
    for k, i in enumerate(mine):
        result[i] = reasons[k]
    new = {r["id"]: reasons[len(mine) + k] for k, r in enumerate(stored_on_track)}
    _write_changes(session, ctx, [r for r in stored if first - reach <= r["visited_at"] <= last + reach], new)
    return result


def _track(rows: Sequence[dict]) -> Track:
    t = np.array([r["visited_at"] for r in rows], dtype=np.int64)
    offsets = np.array([offset_ms(r.get("timezone")) for r in rows], dtype=np.int64)
    return Track(
        ids=[r["id"] for r in rows],
        t=t,
        lat=np.array([r["latitude"] for r in rows], dtype=float),
        lon=np.array([r["longitude"] for r in rows], dtype=float),
        day=day_numbers(t, offsets),
    )


def _write_changes(session: Session, ctx: PushContext, candidates: list[dict], new: dict[str, Reasons]) -> None:
    """Replace the sequence flags of stored rows; bump ``last_modified`` only when ``flags`` changes.

    The other flags were fixed when each visit was pushed (``clock_skew`` compares with its arrival)
    and are kept as stored. A change of reason alone is server-only, so phones need not pull it.
    """
    bumped, quiet = [], []
    for row in candidates:
        sequence = new.get(row["id"], {})
        stored_flags = split_flags(row["flags"])
        flags = join_flags([f for f in stored_flags if f not in SEQUENCE_FLAGS] + list(sequence))
        kept = {k: v for k, v in load_reasons(row["flag_reasons"]).items() if k not in SEQUENCE_FLAGS}
        reasons = dump_reasons(kept | sequence)
        if flags != join_flags(stored_flags):
            bumped.append({"id": row["id"], "flags": flags, "flag_reasons": reasons, "last_modified": ctx.stamp})
        elif reasons != row["flag_reasons"]:
            quiet.append({"id": row["id"], "flag_reasons": reasons})
    for changes in (bumped, quiet):
        if changes:
            session.execute(update(Visit), changes)
