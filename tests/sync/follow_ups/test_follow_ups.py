"""Visit outcomes become follow-ups in working hours; replays add nothing; enrolment cancels revisits."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from sqlalchemy import select

from sync.calendar import workdays
from sync.follow_ups.rules import DEFAULT_RULES, Rule, due_time, follow_up_id
from sync.models import FollowUp
from sync.protocol.clock import now_ms
from sync.settings import EngineSettings
from tests.factories import changes, enrollment, push_as, visit

WITA, WIT = "Asia/Makassar", "Asia/Jayapura"


def ms(year, month, day, hour=0, minute=0, tz="Asia/Jakarta") -> int:
    return int(dt.datetime(year, month, day, hour, minute, tzinfo=ZoneInfo(tz)).timestamp() * 1000)


def local(value: int, tz: str) -> dt.datetime:
    return workdays.to_local(value, tz)


def follow_ups(session, **where):
    query = select(FollowUp)
    for name, value in where.items():
        query = query.where(getattr(FollowUp, name) == value)
    return list(session.execute(query).scalars())


def assert_working_time(value: int, tz: str) -> None:
    moment = local(value, tz)
    assert workdays.is_working_day(moment.date()), moment
    assert dt.time(8) <= moment.time() < dt.time(17), moment


def test_interested_gives_a_revisit_three_days_later_in_working_hours(session, pii, world):
    """interested → one revisit for the agent, due about 3 days after the visit, 08:00–17:00 on a working day."""
    v = visit(outcome="interested", visited_at=now_ms() - 3_600_000)
    push_as(session, pii, world.agent_a, changes(visits={"created": [v]}))
    [made] = follow_ups(session, visit_id=v["id"])
    assert made.id == follow_up_id(v["id"], "revisit") and made.kind == "revisit" and made.status == "scheduled"
    assert made.assigned_agent_id == world.agent_a.id and made.branch_id == world.karawang.id
    assert made.created_by_device is None  # the pushing phone receives it as a creation
    assert_working_time(made.due_at, "Asia/Jakarta")
    assert made.due_at >= v["visited_at"] + 3 * 86_400_000 - 9 * 3_600_000


def test_not_home_gives_a_revisit_on_the_next_working_day(session, pii, world):
    v = visit(outcome="not_home", visited_at=now_ms() - 60_000)
    push_as(session, pii, world.agent_a, changes(visits={"created": [v]}))
    [made] = follow_ups(session, visit_id=v["id"])
    visit_day = local(v["visited_at"], "Asia/Jakarta").date()
    assert local(made.due_at, "Asia/Jakarta").date() >= workdays.next_working_day(visit_day)
    assert_working_time(made.due_at, "Asia/Jakarta")


def test_follow_up_refused_and_enrolled_outcomes_make_no_server_follow_up(session, pii, world):
    """follow_up: the agent made its own on the phone, so the server adds none; refused/enrolled: none."""
    visits = [visit(outcome=o) for o in ("follow_up", "refused", "enrolled", "already_member")]
    push_as(session, pii, world.agent_a, changes(visits={"created": visits}))
    assert follow_ups(session) == []


def test_replaying_a_push_never_makes_a_second_follow_up(session, pii, world):
    v = visit(outcome="interested")
    body = changes(visits={"created": [v]})
    push_as(session, pii, world.agent_a, body)
    first = follow_ups(session)
    push_as(session, pii, world.agent_a, body)  # the response was lost: the phone sends it again
    again = follow_ups(session)
    assert [f.id for f in again] == [f.id for f in first] and again[0].last_modified == first[0].last_modified


def test_an_agent_made_follow_up_for_the_visit_is_not_duplicated(session, pii, world):
    from tests.factories import follow_up

    v = visit(outcome="interested")
    mine = follow_up(visit_id=v["id"], kind="revisit")
    push_as(session, pii, world.agent_a, changes(visits={"created": [v]}, follow_ups={"created": [mine]}))
    assert [f.id for f in follow_ups(session)] == [mine["id"]]


def test_changed_outcome_cancels_the_server_follow_up(session, pii, world):
    v = visit(outcome="interested")
    push_as(session, pii, world.agent_a, changes(visits={"created": [v]}))
    refused = v | {"outcome": "refused", "_status": "updated"}
    push_as(session, pii, world.agent_a, changes(visits={"updated": [refused]}))
    [made] = follow_ups(session)
    assert made.status == "cancelled"


def test_enrolment_cancels_pending_revisits_with_a_stamp(session, pii, world):
    """The worker enrols on the revisit: the scheduled revisit of the first visit is cancelled and re-stamped."""
    first = visit(outcome="interested")
    push_as(session, pii, world.agent_a, changes(visits={"created": [first]}))
    [revisit] = follow_ups(session)
    stamp_before = revisit.last_modified
    e = enrollment(visit_id=first["id"])
    push_as(session, pii, world.agent_a, changes(enrollments={"created": [e]}))
    session.expire_all()
    [revisit] = follow_ups(session)
    assert revisit.status == "cancelled" and revisit.last_modified > stamp_before


def test_rules_are_configurable(session, pii, world):
    """The push applies the rules it is given: here refused → a revisit in 30 days."""
    settings = EngineSettings(follow_up_rules={**DEFAULT_RULES, "refused": Rule("revisit", "days", 30)})
    v = visit(outcome="refused")
    push_as(session, pii, world.agent_a, changes(visits={"created": [v]}), settings=settings)
    assert len(follow_ups(session, visit_id=v["id"])) == 1
    w = visit(outcome="refused")
    push_as(session, pii, world.agent_a, changes(visits={"created": [w]}))  # the defaults again: nothing
    assert follow_ups(session, visit_id=w["id"]) == []


def test_revisit_skips_christmas_and_cuti_bersama_in_wita():
    """Interested on Mon 22 Dec 2025 18:30 WITA: +3 days is Christmas, the 26th cuti bersama → Sat 27th 08:00."""
    base = ms(2025, 12, 22, 18, 30, WITA)
    due = due_time(DEFAULT_RULES["interested"], base=base, now=base, tz=WITA)
    assert local(due, WITA) == dt.datetime(2025, 12, 27, 8, 0, tzinfo=ZoneInfo(WITA))


def test_not_home_before_ascension_moves_past_both_holidays_wit():
    """Not home Wed 13 May 2026 at 20:00 WIT: Thu 14 (Ascension) and Fri 15 (cuti bersama) are skipped."""
    base = ms(2026, 5, 13, 20, 0, WIT)
    due = due_time(DEFAULT_RULES["not_home"], base=base, now=base, tz=WIT)
    assert local(due, WIT) == dt.datetime(2026, 5, 16, 16, 0, tzinfo=ZoneInfo(WIT))  # clamped into hours


def test_due_times_skip_sundays_and_never_fall_in_the_past():
    saturday_evening = ms(2025, 11, 22, 18, 0, WITA)
    assert local(workdays.within_working_hours(saturday_evening, WITA), WITA) == dt.datetime(
        2025, 11, 24, 8, 0, tzinfo=ZoneInfo(WITA)
    )
    now = ms(2025, 11, 25, 10, 0, WITA)
    stale_visit = ms(2025, 11, 1, 10, 0, WITA)
    assert due_time(DEFAULT_RULES["interested"], base=stale_visit, now=now, tz=WITA) == now


def test_zone_fallbacks():
    assert workdays.zone_for_province("73.71") == WITA
    assert workdays.zone_for_province("94") == WIT
    assert workdays.zone_for_province("61") == "Asia/Pontianak"
    assert workdays.zone_for_province(None) is None
    assert workdays.zone_for_point(-5.1354, 119.4238) == WITA  # a Makassar branch
    assert workdays.zone_for_point(None, None) == "Asia/Jakarta"
