"""A supervisor's reassignment is a deletion on the old agent's phone and a creation on the new one's,
seen through the real pull (sync.protocol.pull.pull); missed follow-ups are stamped so phones see them."""

from __future__ import annotations

import pytest

from sync.errors import InvalidRequest, NotFound
from sync.follow_ups import manage
from sync.follow_ups.overdue import mark_missed
from sync.protocol.clock import now_ms
from sync.protocol.pull import pull
from tests.factories import changes, principal_of, push_as, visit

from .test_follow_ups import follow_ups


def pulled(session, pii, user, since):
    body = pull(session, principal=principal_of(user, device_id="other-phone"), last_pulled_at=since, pii=pii)
    session.rollback()
    return body


def test_reassign_is_a_deletion_for_the_old_agent_and_a_creation_for_the_new(session, pii, world):
    push_as(session, pii, world.agent_a, changes(visits={"created": [visit(outcome="interested")]}))
    [fu] = follow_ups(session)
    a_first = pulled(session, pii, world.agent_a, None)
    assert [r["id"] for r in a_first["changes"]["follow_ups"]["created"]] == [fu.id]
    b_first = pulled(session, pii, world.agent_b, None)
    assert b_first["changes"]["follow_ups"]["created"] == []

    manage.change_follow_up(
        session,
        principal=principal_of(world.supervisor),
        follow_up_id=fu.id,
        changes={"assigned_agent_id": world.agent_b.id},
    )
    session.commit()

    a_next = pulled(session, pii, world.agent_a, a_first["timestamp"])
    assert a_next["changes"]["follow_ups"]["deleted"] == [fu.id]
    assert a_next["changes"]["follow_ups"]["created"] == a_next["changes"]["follow_ups"]["updated"] == []
    b_next = pulled(session, pii, world.agent_b, b_first["timestamp"])
    [created] = b_next["changes"]["follow_ups"]["created"]
    assert created["id"] == fu.id and created["assigned_agent_id"] == world.agent_b.id
    assert b_next["changes"]["follow_ups"]["deleted"] == []


def test_reassigning_back_is_not_a_deletion_for_the_returning_agent(session, pii, world):
    push_as(session, pii, world.agent_a, changes(visits={"created": [visit(outcome="interested")]}))
    [fu] = follow_ups(session)
    since = pulled(session, pii, world.agent_a, None)["timestamp"]
    spv = principal_of(world.supervisor)
    manage.change_follow_up(session, principal=spv, follow_up_id=fu.id, changes={"assigned_agent_id": world.agent_b.id})
    manage.change_follow_up(session, principal=spv, follow_up_id=fu.id, changes={"assigned_agent_id": world.agent_a.id})
    session.commit()
    body = pulled(session, pii, world.agent_a, since)
    assert body["changes"]["follow_ups"]["deleted"] == []
    assert [r["id"] for r in body["changes"]["follow_ups"]["created"]] == [fu.id]


def test_supervisor_cannot_reach_other_branches(session, pii, world):
    push_as(session, pii, world.agent_a, changes(visits={"created": [visit(outcome="interested")]}))
    [fu] = follow_ups(session)
    with pytest.raises(NotFound):
        manage.change_follow_up(
            session, principal=principal_of(world.supervisor_makassar), follow_up_id=fu.id, changes={"status": "done"}
        )
    with pytest.raises(InvalidRequest):  # an agent of another branch is no valid target
        manage.change_follow_up(
            session,
            principal=principal_of(world.supervisor),
            follow_up_id=fu.id,
            changes={"assigned_agent_id": world.agent_c.id},
        )


def test_reschedule_snaps_into_working_hours_and_reopens_missed(session, pii, world):
    push_as(session, pii, world.agent_a, changes(visits={"created": [visit(outcome="interested")]}))
    [fu] = follow_ups(session)
    assert mark_missed(session, now=fu.due_at + 25 * 3_600_000, grace_ms=24 * 3_600_000) == 1
    session.commit()
    session.refresh(fu)
    assert fu.status == "missed"
    since = pulled(session, pii, world.agent_a, None)["timestamp"]
    late_evening = fu.due_at + 10 * 86_400_000 + 12 * 3_600_000
    changed = manage.change_follow_up(
        session, principal=principal_of(world.supervisor), follow_up_id=fu.id, changes={"due_at": late_evening}
    )
    session.commit()
    assert changed.status == "scheduled" and changed.due_at >= late_evening
    [updated] = pulled(session, pii, world.agent_a, since)["changes"]["follow_ups"]["updated"]
    assert updated["status"] == "scheduled" and updated["due_at"] == changed.due_at


def test_missed_follow_ups_are_stamped_for_phones(session, pii, world):
    push_as(session, pii, world.agent_a, changes(visits={"created": [visit(outcome="not_home")]}))
    [fu] = follow_ups(session)
    since = pulled(session, pii, world.agent_a, None)["timestamp"]
    assert mark_missed(session, now=fu.due_at + 1000, grace_ms=24 * 3_600_000) == 0  # still within grace
    assert mark_missed(session, now=fu.due_at + 24 * 3_600_000 + 1, grace_ms=24 * 3_600_000) == 1
    session.commit()
    [updated] = pulled(session, pii, world.agent_a, since)["changes"]["follow_ups"]["updated"]
    assert updated["status"] == "missed"
    assert manage.list_follow_ups(
        session, principal=principal_of(world.supervisor), now=now_ms() + 30 * 86_400_000, overdue=True
    ).items
