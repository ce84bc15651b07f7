"""Active agents follow the visits: kept per period by the push, filled when a period is written.

Period "Februari" = Feb 1–28 2031 (Asia/Jakarta); every board is read at as_of Feb 20 12:00.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
from pathlib import Path

from sqlalchemy import delete, select, text

from sync.contest import periods
from sync.models.contest import ContestActivity
from tests.sync.contest.support import at, board, period, push_as, visit_at

AS_OF = at("2031-02-20")


def active(session, period_id: str) -> tuple[int, int]:
    """(Karawang, Makassar) active agents."""
    table = board(session, period_id, AS_OF)
    return table["KCU-KARAWANG"]["active_agents"], table["KCU-MAKASSAR"]["active_agents"]


def test_a_period_written_after_the_visits_finds_them(session, world, pii):
    """agen.a visited Feb 5, agen.b Jan 30, agen.c Feb 19: the period made afterwards counts (1, 1);
    moved to start on Jan 29, agen.b's visit is in it too: (2, 1)."""
    visit_at(session, pii, world.agent_a, at("2031-02-05"))
    visit_at(session, pii, world.agent_b, at("2031-01-30"))
    visit_at(session, pii, world.agent_c, at("2031-02-19"))
    february = period(session, "Februari", "2031-02-01", "2031-02-28")
    assert active(session, february.id) == (1, 1)
    periods.update_period(session, february.id, {"starts_on": dt.date(2031, 1, 29)})
    session.commit()
    assert active(session, february.id) == (2, 1)


def test_visits_moved_or_deleted_leave_the_period(session, world, pii):
    """agen.a's only visit moves from Feb 5 to Mar 3 (its phone's time corrected): inactive. agen.c's
    Feb 10 visit is deleted, its Feb 25 one is after as_of: inactive at Feb 20, active at the end."""
    february = period(session, "Februari", "2031-02-01", "2031-02-28")
    moved = visit_at(session, pii, world.agent_a, at("2031-02-05"))
    gone = visit_at(session, pii, world.agent_c, at("2031-02-10"))
    visit_at(session, pii, world.agent_c, at("2031-02-25"))
    assert active(session, february.id) == (1, 1)
    update = dict(moved, visited_at=at("2031-03-03"), _status="updated")
    push_as(session, pii, world.agent_a, {"visits": {"updated": [update]}})
    push_as(session, pii, world.agent_c, {"visits": {"deleted": [gone["id"]]}})
    assert active(session, february.id) == (0, 0)
    end = board(session, february.id, at("2031-03-01"))
    assert end["KCU-MAKASSAR"]["active_agents"] == 1
    rows = session.execute(select(ContestActivity.agent_id, ContestActivity.first_visit_at)).all()
    assert rows == [(world.agent_c.id, at("2031-02-25"))]


def test_migration_backfill_agrees_with_the_engine(session, world, pii):
    """Migration 0007 fills ``contest_activity`` with SQL of its own: the rows the push keeps."""
    february = period(session, "Februari", "2031-02-01", "2031-02-28")
    period(session, "Maret", "2031-03-01", "2031-03-31")
    moved = visit_at(session, pii, world.agent_a, at("2031-02-05"))
    visit_at(session, pii, world.agent_a, at("2031-02-07"))
    gone = visit_at(session, pii, world.agent_c, at("2031-02-10"))
    visit_at(session, pii, world.agent_b, at("2031-03-02"))
    push_as(
        session,
        pii,
        world.agent_a,
        {"visits": {"updated": [dict(moved, visited_at=at("2031-03-03"), _status="updated")]}},
    )
    push_as(session, pii, world.agent_c, {"visits": {"deleted": [gone["id"]]}})
    query = select(ContestActivity.period_id, ContestActivity.agent_id, ContestActivity.first_visit_at)
    kept = sorted(session.execute(query).all())
    assert len(kept) == 3 and (february.id, world.agent_a.id, at("2031-02-07")) in kept
    path = Path(__file__).parents[3] / "server" / "migrations" / "versions" / "0007_contest_activity.py"
    spec = importlib.util.spec_from_file_location("migration_0007", path)
    assert spec is not None and spec.loader is not None
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    session.execute(delete(ContestActivity))
    session.execute(text(migration.BACKFILL))
    session.commit()
    assert sorted(session.execute(query).all()) == kept
