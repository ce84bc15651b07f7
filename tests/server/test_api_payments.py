"""POST /api/v1/payments/import: good lines kept, bad ones reported by number; arrears drive reminders,
escalation and lapsing (stamped so phones see it)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from sync.models import FollowUp, Worker
from sync.models.outreach import Payment, Reminder
from sync.payments.assessment import assess
from sync.payments.contributions import monthly_contribution, unpaid_streak
from tests.factories import changes, enrollment
from tests.sync.follow_ups.test_follow_ups import ms


def enrol(api, world, nik):
    _, pushed = api.sync(world.agent_a, changes(enrollments={"created": [enrollment(nik=nik)]}))
    [result] = pushed.json["results"]["enrollments"].values()
    return result["worker_id"]


def post_csv(api, user, text):
    return api.client.post(
        "/api/v1/payments/import", data=text.encode(), headers=api.headers(user, "web", **{"Content-Type": "text/csv"})
    )


def test_import_keeps_good_lines_and_reports_bad_ones_by_number(api, world, session):
    worker_id = enrol(api, world, "3215011203850001")
    text = (
        "nik,contribution_month,amount,paid_at\n"
        "3215011203850001,2025-06,16800,2025-06-10\n"
        "12345,2025-06,16800,2025-06-10\n"
        "3215011203850001,2025-13,16800,2025-06-10\n"
        "3215011203859999,2025-06,16800,2025-06-10\n"
        "\n"
        "3215011203850001,2025-07,-5,yesterday\n"
        "3215011203850001,2025-07,Rp16.800,2025-07-14T10:00:00+07:00\n"
    )
    response = post_csv(api, world.admin, text)
    assert response.status_code == 200, response.json
    body = response.json
    assert body["lines"] == 6 and body["imported"] == 2 and body["rejected"] == 4
    by_line = {e["line"]: e["errors"] for e in body["errors"]}
    assert set(by_line) == {3, 4, 5, 7}
    assert "nik" in by_line[3] and "month" in by_line[4] and "nik" in by_line[5]
    assert set(by_line[7]) == {"amount", "paid_at"}
    months = session.execute(select(Payment.contribution_month).where(Payment.worker_id == worker_id)).scalars()
    assert sorted(months) == ["2025-06", "2025-07"]
    again = post_csv(api, world.admin, text)  # re-importing the same file adds nothing
    assert again.json["imported"] == 2 and len(session.execute(select(Payment)).all()) == 2


def test_import_refuses_a_file_without_the_columns(api, world):
    response = post_csv(api, world.admin, "foo,bar\n1,2\n")
    assert response.status_code == 200 and response.json["errors"][0]["line"] == 1
    assert post_csv(api, world.agent_a, "nik\n").status_code == 403


def test_unpaid_months_escalate_at_two_and_lapse_at_three(api, world, session):
    worker_id = enrol(api, world, "3215011203850002")
    worker = session.get(Worker, worker_id)
    worker.enrolled_at = ms(2025, 3, 1, 10)
    session.commit()
    stamp = worker.last_modified
    # April paid; May and June unpaid: on 20 June both deadlines have passed → escalation, not lapsed
    session.add(
        Payment(id="p1", worker_id=worker_id, contribution_month="2025-03", amount=16800, paid_at=1, imported_at=1)
    )
    session.add(
        Payment(id="p2", worker_id=worker_id, contribution_month="2025-04", amount=16800, paid_at=1, imported_at=1)
    )
    session.commit()
    result = assess(session, worker_ids=[worker_id], now=ms(2025, 6, 20, 10))
    session.commit()
    assert result.escalations == 1 and result.lapsed == 0
    [esc] = session.execute(select(FollowUp).where(FollowUp.worker_id == worker_id)).scalars()
    assert esc.assigned_agent_id == world.agent_a.id and esc.kind == "payment_reminder"
    assert assess(session, worker_ids=[worker_id], now=ms(2025, 6, 20, 11)).escalations == 0  # once
    result = assess(session, worker_ids=[worker_id], now=ms(2025, 7, 20, 10))
    session.commit()
    session.refresh(worker)
    assert result.lapsed == 1 and worker.membership_status == "lapsed" and worker.last_modified > stamp


def test_payment_reminders_d5_and_d1_at_nine_skip_holidays_in_wita(api, world, session):
    """May 2026: the 15th is cuti bersama → deadline Sat 16th; D-1 (15th) and the 14th (Ascension) are
    holidays, so D-1 goes Wed 13 May 09:00 WITA; D-5 Mon 11 May 09:00 WITA."""
    worker_id = enrol(api, world, "3215011203850003")
    worker = session.get(Worker, worker_id)
    worker.enrolled_at = ms(2026, 4, 20, 10)
    session.commit()
    from sync.models import Visit

    session.execute(Visit.__table__.update().values(timezone=None))
    visit_id = "vWITA1"
    session.add(
        Visit(
            id=visit_id,
            server_created_at=1,
            last_modified=1,
            agent_id=world.agent_c.id,
            worker_id=worker_id,
            visited_at=ms(2026, 4, 20, 9),
            timezone="Asia/Makassar",
        )
    )
    session.commit()
    assess(session, worker_ids=[worker_id], now=ms(2026, 5, 1, 10))
    session.commit()
    reminders = session.execute(select(Reminder).order_by(Reminder.due_at)).scalars().all()
    assert [r.due_at for r in reminders] == [
        ms(2026, 5, 11, 9, 0, "Asia/Makassar"),
        ms(2026, 5, 13, 9, 0, "Asia/Makassar"),
    ]
    assert all(r.subject_month == "2026-05" and r.timezone == "Asia/Makassar" for r in reminders)
    assert "16 Mei 2026" in reminders[0].text and "Rp" in reminders[0].text
    assess(session, worker_ids=[worker_id], now=ms(2026, 5, 1, 11))  # replanning adds nothing
    session.commit()
    assert len(session.execute(select(Reminder)).all()) == 2
    post_csv(api, world.admin, "nik,contribution_month,amount,paid_at\n3215011203850003,2026-05,20000,2026-05-02\n")
    session.rollback()
    session.expire_all()
    assert {r.status for r in session.execute(select(Reminder)).scalars()} == {"cancelled"}  # paid: no reminder


def test_contribution_and_streak_rules():
    assert monthly_contribution(500_000, "JKK,JKM") == 16_800  # JKK minimum Rp10,000 + JKM Rp6,800
    assert monthly_contribution(2_000_000, "JKK,JKM,JHT") == 20_000 + 6_800 + 40_000
    assert unpaid_streak("2025-03", dt.date(2025, 6, 20), {"2025-03", "2025-04"}) == (2, "2025-06")
    assert unpaid_streak("2025-03", dt.date(2025, 6, 10), {"2025-03"}) == (2, "2025-05")
