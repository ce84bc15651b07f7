"""The outbox in one process: claim with a lease, quiet hours, daily cap, mobile-only, opt-out, retries."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from sqlalchemy import func, insert, select

from sync.db import session_factory
from sync.identifiers.phone import check_phone
from sync.models import Worker, new_id
from sync.models.outreach import Reminder
from sync.reminders.backoff import retry_delay_ms
from sync.reminders.channels import Delivery, WebhookChannel, sign
from sync.reminders.dispatch import claim, dispatch
from sync.reminders.manage import opt_out
from sync.reminders.outbox import enqueue
from sync.reminders.quiet import next_sendable, parse_quiet_hours
from sync.reminders.settings import DispatchSettings
from sync.reminders.templates import payment_text, rupiah
from tests.sync.reminder_gateway import SECRET, Gateway

WIT, WITA = "Asia/Jayapura", "Asia/Makassar"


def ms(year, month, day, hour=0, minute=0, tz="Asia/Jakarta") -> int:
    return int(dt.datetime(year, month, day, hour, minute, tzinfo=ZoneInfo(tz)).timestamp() * 1000)


class Recorder:
    """A channel that records messages and answers from a script (``Delivery`` per call, then ok)."""

    name = "recorder"

    def __init__(self, *answers: Delivery):
        self.sent: list[dict] = []
        self.answers = list(answers)

    def send(self, message, *, sender):
        self.sent.append(message)
        return self.answers.pop(0) if self.answers else Delivery(ok=True)


def make_worker(session, pii, phone="0812-3456-7890", name="Siti Aminah") -> Worker:
    wid = new_id()
    session.execute(
        insert(Worker),
        [
            {
                "id": wid,
                "server_created_at": 1,
                "last_modified": 1,
                "full_name": name,
                "phone_encrypted": pii.encrypt(phone, row_id=wid),
                "phone_index": pii.blind_index("phone", check_phone(phone).e164),
                "membership_status": "active",
            }
        ],
    )
    session.commit()
    return session.get(Worker, wid)


def remind(session, worker, *, due_at, tz="Asia/Jakarta", text="Rapat desa besok", kind="message") -> Reminder:
    reminder = enqueue(
        session,
        kind=kind,
        recipient_type="worker",
        recipient_id=worker.id,
        text=text,
        due_at=due_at,
        timezone=tz,
        now=due_at,
    )
    session.commit()
    return reminder


def run(engine, pii, channel, now, **settings):
    return dispatch(
        session_factory(engine),
        channel=channel,
        settings=DispatchSettings(**settings),
        pii=pii,
        me="test-instance",
        now=now,
    )


def reload(session, reminder) -> Reminder:
    session.rollback()  # end the read snapshot (SQLite) so other sessions' commits are visible
    session.expire_all()
    return session.get(Reminder, reminder.id)


def test_due_reminder_is_sent_once_with_the_decrypted_mobile_number(session, engine, pii):
    worker = make_worker(session, pii)
    now = ms(2025, 7, 10, 10, 0)
    reminder = remind(session, worker, due_at=now - 1)
    channel = Recorder()
    report = run(engine, pii, channel, now)
    expected = {"id": reminder.id, "to": "+6281234567890", "channel": "sms", "text": "Rapat desa besok"}
    assert report.sent == 1 and channel.sent == [expected | {"reminder_kind": "message"}]
    assert run(engine, pii, channel, now + 60_000).claimed == 0  # never twice
    row = reload(session, reminder)
    assert row.status == "sent" and row.attempts == 1 and row.claimed_by is None and row.sent_at == now


def test_not_yet_due_is_left_alone(session, engine, pii):
    worker = make_worker(session, pii)
    now = ms(2025, 7, 10, 10, 0)
    remind(session, worker, due_at=now + 60_000)
    assert run(engine, pii, Recorder(), now).claimed == 0


def test_2300_wit_is_quiet_and_waits_until_0700_wit(session, engine, pii):
    """Due at 23:00 WIT (21:00 in Jakarta!): the recipient's own clock counts, so it goes at 07:00 WIT."""
    worker = make_worker(session, pii)
    now = ms(2025, 7, 10, 23, 0, WIT)
    reminder = remind(session, worker, due_at=now, tz=WIT)
    channel = Recorder()
    report = run(engine, pii, channel, now)
    assert report.deferred == 1 and channel.sent == []
    row = reload(session, reminder)
    assert row.status == "pending" and row.attempts == 0 and row.send_after == ms(2025, 7, 11, 7, 0, WIT)
    assert run(engine, pii, channel, ms(2025, 7, 11, 7, 0, WIT)).sent == 1


def test_quiet_hours_can_be_turned_off_or_changed():
    assert parse_quiet_hours("off") is None
    quiet = parse_quiet_hours("22:30-06:00")
    assert next_sendable(ms(2025, 1, 1, 23, 0, WITA), WITA, quiet) == ms(2025, 1, 2, 6, 0, WITA)
    assert next_sendable(ms(2025, 1, 1, 3, 0, WITA), WITA, quiet) == ms(2025, 1, 1, 6, 0, WITA)
    assert next_sendable(ms(2025, 1, 1, 12, 0, WITA), WITA, quiet) == ms(2025, 1, 1, 12, 0, WITA)


def test_at_most_one_reminder_per_recipient_per_local_day(session, engine, pii):
    worker = make_worker(session, pii)
    now = ms(2025, 7, 10, 10, 0, WITA)
    first = remind(session, worker, due_at=now - 2, tz=WITA)
    second = remind(session, worker, due_at=now - 1, tz=WITA, text="Pesan kedua")
    channel = Recorder()
    report = run(engine, pii, channel, now)
    assert report.sent == 1 and report.deferred == 1
    assert reload(session, first).status == "sent"
    assert reload(session, second).send_after == ms(2025, 7, 11, 9, 0, WITA)
    assert run(engine, pii, channel, ms(2025, 7, 11, 9, 0, WITA)).sent == 1


def test_landlines_and_opted_out_numbers_get_nothing(session, engine, pii):
    landline = make_worker(session, pii, phone="021-1234-5678")
    stopped = make_worker(session, pii, phone="081377778888")
    now = ms(2025, 7, 10, 10, 0)
    a = remind(session, landline, due_at=now)
    b = remind(session, stopped, due_at=now)
    opt_out(session, pii=pii, phone="+62 813-7777-8888", now=now - 10)
    session.commit()
    assert reload(session, b).status == "cancelled"  # cancelled at once, before any tick
    channel = Recorder()
    report = run(engine, pii, channel, now)
    assert channel.sent == [] and report.cancelled == 1
    assert reload(session, a).status == "cancelled" and "seluler" in reload(session, a).last_error
    later = remind(session, stopped, due_at=now + 1, text="lagi")  # opted out stays opted out
    run(engine, pii, channel, now + 2)
    assert reload(session, later).status == "cancelled" and channel.sent == []


def test_failures_back_off_then_dead_letter(session, engine, pii):
    worker = make_worker(session, pii)
    now = ms(2025, 7, 10, 10, 0)
    reminder = remind(session, worker, due_at=now)
    down = Delivery(ok=False, retryable=True, error="HTTP 503")
    channel = Recorder(down, down, down)
    settings = {"max_attempts": 3, "backoff_base_ms": 1000, "backoff_cap_ms": 10_000}
    assert run(engine, pii, channel, now, **settings).failed == 1
    row = reload(session, reminder)
    assert row.status == "failed" and row.last_error == "HTTP 503" and now + 500 <= row.send_after <= now + 1000
    assert run(engine, pii, channel, row.send_after, **settings).failed == 1
    row = reload(session, reminder)
    assert row.send_after - row.updated_at >= 1000  # the second delay is longer
    assert run(engine, pii, channel, row.send_after, **settings).dead == 1
    assert reload(session, reminder).status == "dead" and reload(session, reminder).attempts == 3


def test_a_permanent_refusal_is_dead_at_once(session, engine, pii):
    worker = make_worker(session, pii)
    now = ms(2025, 7, 10, 10, 0)
    reminder = remind(session, worker, due_at=now)
    report = run(engine, pii, Recorder(Delivery(ok=False, retryable=False, error="HTTP 400")), now)
    assert report.dead == 1 and reload(session, reminder).status == "dead"


def test_backoff_grows_and_jitters():
    delays = [retry_delay_ms(n, base_ms=1000, cap_ms=60_000) for n in range(1, 9)]
    assert 500 <= delays[0] <= 1000 and delays[-1] <= 60_000 and delays[5] >= 16_000


def test_a_claimed_row_is_invisible_to_others_until_its_lease_expires(session, engine, pii):
    worker = make_worker(session, pii)
    now = ms(2025, 7, 10, 10, 0)
    remind(session, worker, due_at=now)
    factory = session_factory(engine)
    with factory() as s, s.begin():
        assert len(claim(s, me="a", now=now, limit=10, lease_ms=5000)) == 1
    with factory() as s, s.begin():
        assert claim(s, me="b", now=now + 4999, limit=10, lease_ms=5000) == []
    with factory() as s, s.begin():
        [row] = claim(s, me="b", now=now + 5001, limit=10, lease_ms=5000)
        assert row["attempts"] == 2


def test_webhook_channel_signs_and_classifies_answers():
    with Gateway() as gateway:
        channel = WebhookChannel(gateway.url, SECRET, timeout_s=2)
        message = {"id": "r1", "to": "+628123", "channel": "sms", "text": "Halo", "reminder_kind": "message"}
        assert channel.send(message, sender="t").ok
        assert channel.send(message, sender="t").ok and gateway.replays["r1"] == 1  # the key deduplicates
        assert gateway.bad_signatures == 0
        other = WebhookChannel(gateway.url, "not-the-secret", timeout_s=2)
        wrong = other.send(message | {"id": "r2"}, sender="t")
        other.close()
        assert not wrong.ok and not wrong.retryable and wrong.error == "HTTP 401"  # 4xx: permanent
        gateway.fail_rate = 1.0
        failed = channel.send(message | {"id": "r3"}, sender="t")
        assert not failed.ok and failed.retryable  # 5xx: retried later
        channel.close()
    closed = WebhookChannel(gateway.url, SECRET, timeout_s=1).send(message | {"id": "r4"}, sender="t")
    assert not closed.ok and closed.retryable  # nothing listening: retried later
    assert sign(b"{}", "k", 1) == sign(b"{}", "k", 1) != sign(b"{} ", "k", 1) != sign(b"{}", "k", 2)


def test_templates_are_indonesian():
    text = payment_text(name="Siti Aminah", month="2026-05", amount=16800, deadline=dt.date(2026, 5, 16))
    assert text.startswith("Halo Siti,") and "Mei 2026" in text and "Rp16.800" in text and "16 Mei 2026" in text
    assert "3 bulan" in payment_text(
        name=None, month="2026-05", amount=50400, deadline=dt.date(2026, 5, 16), unpaid_months=3
    )
    assert rupiah(1234567) == "Rp1.234.567"


def test_outbox_counts(session, engine, pii):
    """Enqueuing with the same dedupe key twice keeps one row."""
    worker = make_worker(session, pii)
    for _ in range(2):
        enqueue(
            session,
            kind="payment_due",
            recipient_type="worker",
            recipient_id=worker.id,
            text="x",
            due_at=1,
            timezone="Asia/Jakarta",
            dedupe_key="pay:w:2025-07:D5",
        )
    session.commit()
    assert session.execute(select(func.count()).select_from(Reminder)).scalar_one() == 1
