"""A branch's workspace as the supervisor pages show it: one open duplicate pair, a flagged visit with
the agent's other visits that day, an overdue follow-up, a dead reminder, and Makassar's own of each
(out of the Karawang supervisor's scope). Shared by the browser tests and tests/server/test_web_pages.py.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass

from sqlalchemy.orm import Session

from sync.calendar import workdays
from sync.follow_ups import manage as follow_ups
from sync.models import Enrollment, FollowUp, Visit, new_id
from sync.models.outreach import Reminder
from sync.protocol.clock import now_ms
from sync.reminders.outbox import reminder_row
from sync.visits import rollup
from tests.dedup_helpers import person
from tests.factories import changes, enrollment, principal_of, valid_nik

HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS
_stamp = itertools.count(1)


@dataclass
class Workspace:
    candidate_id: str
    first_enrollment_id: str
    twin_enrollment_id: str
    first_worker_id: str  # the person the first enrolment made
    flagged_visit_id: str
    neighbour_visit_ids: list[str]
    follow_up_id: str
    dead_reminder_id: str
    other_flagged_visit_id: str  # Makassar's
    other_follow_up_id: str
    other_reminder_id: str


def twin(**overrides) -> dict:
    return person(nik="3215011203850008", full_name="Muhammad Yunus", **overrides)


def duplicate_pair(api, world) -> tuple[dict, dict]:
    """agent_a enrols the fisherman, agent_b his twin: one open candidate in Karawang."""
    first, other = person(), twin()
    api.sync(world.agent_a, changes(enrollments={"created": [first]}))
    _, pushed = api.sync(world.agent_b, changes(enrollments={"created": [other]}))
    assert pushed.json["results"]["enrollments"][other["id"]]["status"] == "verified", pushed.json
    return first, other


def strangers(count: int, *, first_serial: int = 500) -> list[dict]:
    """Enrolments of people nobody else resembles (own name, birth date, NIK, phone and village)."""
    people = []
    for n in range(count):
        birth = dt.date(1960 + n, 1 + n % 12, 1 + n)
        serial = first_serial + n
        people.append(
            enrollment(
                nik=valid_nik(serial, birth=birth),
                full_name=f"Warga Makassar {chr(65 + n)}",
                birth_date=birth.isoformat(),
                phone=f"0852{serial:08d}",
                village=f"Desa {chr(65 + n)}{n}",
            )
        )
    return people


def makassar_ahead(api, world, count: int = 3) -> None:
    """agen.c enrols ``count`` people: Makassar then leads the contest with more credits than Karawang's two."""
    _, pushed = api.sync(world.agent_c, changes(enrollments={"created": strangers(count)}))
    statuses = {result["status"] for result in pushed.json["results"]["enrollments"].values()}
    assert statuses == {"verified"}, pushed.json


def add_visit(session: Session, agent, lat: float, lon: float, visited_at: int, **values) -> Visit:
    stamp = next(_stamp)
    row = Visit(
        id=new_id(),
        agent_id=agent.id,
        branch_id=agent.branch_id,
        server_created_at=stamp,
        last_modified=stamp,
        visited_at=visited_at,
        latitude=lat,
        longitude=lon,
        outcome=values.pop("outcome", "interested"),
        timezone=values.pop("timezone", "Asia/Jakarta"),
        **values,
    )
    session.add(row)
    return row


def local_noon_today(tz: str = "Asia/Jakarta") -> int:
    """Today's noon in ``tz``: visits at 11:00-13:00 lie in today's, this month's and this week's windows
    whatever the hour the tests run at (some of them in the future, which the pages count all the same)."""
    today = workdays.to_local(now_ms(), tz).date()
    return workdays.local_ms(today, dt.time(12), tz)


def agents_day(session: Session, agent, *, flags: str = "mock_location", lat: float = -6.30, lon: float = 107.30):
    """Three visits around today's noon; the middle one flagged (returned first, with the other two)."""
    morning = local_noon_today()
    before = add_visit(session, agent, lat - 0.01, lon - 0.01, morning - HOUR_MS, outcome="refused")
    flagged = add_visit(
        session,
        agent,
        lat,
        lon,
        morning,
        outcome="enrolled",
        flags=flags,
        regency_code="32.15",
        regency="Kabupaten Karawang",
        province="Jawa Barat",
        accuracy_m=12.0,
        distance_from_branch_km=1.2,
    )
    after = add_visit(session, agent, lat + 0.01, lon + 0.01, morning + HOUR_MS, outcome="not_home")
    return flagged, [before, after]


def overdue_follow_up(session: Session, supervisor, agent) -> FollowUp:
    return follow_ups.create_follow_up(
        session,
        principal=principal_of(supervisor),
        values={"assigned_agent_id": agent.id, "due_at": now_ms() - 3 * DAY_MS, "kind": "revisit"},
    )


def dead_reminder(session: Session, agent, *, error: str = "HTTP 502 dari gateway") -> Reminder:
    row = reminder_row(
        kind="message",
        recipient_type="agent",
        recipient_id=agent.id,
        branch_id=agent.branch_id,
        text="Rapat cabang Senin pukul 09.00",
        due_at=now_ms() - DAY_MS,
        timezone="Asia/Jakarta",
    )
    row |= {"status": "dead", "attempts": 5, "last_error": error}
    reminder = Reminder(**row)
    session.add(reminder)
    return reminder


def build(api, world, session: Session) -> Workspace:
    """Everything above, committed."""
    first, other = duplicate_pair(api, world)
    flagged, neighbours = agents_day(session, world.agent_a)
    other_flagged, _ = agents_day(session, world.agent_c, lat=-5.13, lon=119.42)
    follow_up = overdue_follow_up(session, world.supervisor, world.agent_a)
    other_follow_up = overdue_follow_up(session, world.supervisor_makassar, world.agent_c)
    reminder = dead_reminder(session, world.agent_a)
    other_reminder = dead_reminder(session, world.agent_c)
    session.flush()
    rollup.rebuild(session)
    first_worker_id = session.get(Enrollment, first["id"]).worker_id
    session.commit()
    listed = api.client.get("/api/v1/duplicates", headers=api.headers(world.supervisor, "web")).json["items"]
    (candidate,) = listed
    return Workspace(
        candidate_id=candidate["id"],
        first_enrollment_id=first["id"],
        twin_enrollment_id=other["id"],
        first_worker_id=first_worker_id,
        flagged_visit_id=flagged.id,
        neighbour_visit_ids=[v.id for v in neighbours],
        follow_up_id=follow_up.id,
        dead_reminder_id=reminder.id,
        other_flagged_visit_id=other_flagged.id,
        other_follow_up_id=other_follow_up.id,
        other_reminder_id=other_reminder.id,
    )
