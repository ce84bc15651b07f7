"""Exactly-once dispatch with several scheduler *processes* on one database (docs/domain.md "Reminders").

Three ``python -m server.scheduler`` processes tick against the test database and a loopback gateway
counts deliveries by Idempotency-Key. PostgreSQL runs the full 1,000-reminder proof; SQLite (one writer,
so the conditional UPDATE is trivially atomic) runs a smaller variant of the same scenarios.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from sync.models.outreach import Reminder
from sync.protocol.clock import now_ms
from tests.conftest import TEST_KEYS
from tests.sync.reminder_gateway import SECRET, Gateway, seed_due_reminders

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def count(engine) -> int:
    return 1000 if engine.dialect.name == "postgresql" else 150


def scheduler_env(database_url: str, gateway_url: str, tmp_path: Path, **extra: str) -> dict:
    env = dict(os.environ)
    env.update(TEST_KEYS)
    env.update(
        {
            "DATABASE_URL": database_url,
            "JANGKAU_INSTANCE_DIR": str(tmp_path),
            "JANGKAU_SECRET_KEY": "test",
            "JANGKAU_REMINDER_CHANNEL": "webhook",
            "JANGKAU_REMINDER_WEBHOOK_URL": gateway_url,
            "JANGKAU_WEBHOOK_SECRET": SECRET,
            "JANGKAU_QUIET_HOURS": "off",
            "JANGKAU_REMINDER_LEASE_S": "3",
            "JANGKAU_REMINDER_TIMEOUT_S": "1",
            "JANGKAU_REMINDER_BACKOFF_BASE_S": "0.1",
            "JANGKAU_REMINDER_BACKOFF_CAP_S": "0.5",
            "JANGKAU_REMINDER_MAX_ATTEMPTS": "40",
            "JANGKAU_REMINDER_BATCH_SIZE": "20",
            "PYTHONPATH": str(ROOT),
        }
    )
    env.update(extra)
    return env


def start_schedulers(n: int, env: dict) -> list[subprocess.Popen]:
    """Scheduler processes logging to files in the instance dir (read back when one dies)."""
    cmd = [sys.executable, "-m", "server.scheduler", "--interval", "0.2"]
    processes = []
    for _ in range(n):
        log_path = Path(env["JANGKAU_INSTANCE_DIR"]) / f"scheduler-{time.monotonic_ns()}.log"
        with log_path.open("w") as log_file:
            process = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=log_file, stderr=subprocess.STDOUT)
        process.log_path = log_path
        processes.append(process)
    return processes


def stop(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_until_sent(session, count: int, processes, timeout_s: float = 180) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        session.rollback()
        sent = session.execute(select(func.count()).where(Reminder.status == "sent")).scalar_one()
        if sent == count:
            return
        for process in processes:
            if process.poll() not in (None, -signal.SIGKILL):
                log_tail = process.log_path.read_text()[-2000:]
                raise AssertionError(f"a scheduler exited with {process.returncode}: {log_tail}")
        time.sleep(0.2)
    raise AssertionError(f"only {sent} of {count} reminders sent in {timeout_s}s")


def assert_exactly_once(gateway: Gateway, ids: list[str]) -> None:
    assert set(gateway.delivered) == set(ids)
    assert all(n == 1 for n in gateway.delivered.values())
    assert sum(gateway.replays.values()) == 0, f"keys sent again after delivery: {list(gateway.replays)[:5]}"
    assert gateway.bad_signatures == 0


def test_three_processes_deliver_each_reminder_exactly_once(session, pii, database_url, tmp_path, count):
    """Three schedulers share the due reminders: every one reaches the gateway once, and all three worked."""
    ids = seed_due_reminders(session, pii, count, due_at=now_ms() - 1000)
    with Gateway() as gateway:
        processes = start_schedulers(3, scheduler_env(database_url, gateway.url, tmp_path))
        try:
            wait_until_sent(session, count, processes)
        finally:
            stop(processes)
    assert_exactly_once(gateway, ids)
    assert gateway.requests == count
    assert len([s for s in gateway.senders if s]) >= 2, "the work should be shared between processes"


def test_gateway_failing_30_percent_still_delivers_everything_once(session, pii, database_url, tmp_path, count):
    """With 30% of calls answered 503, retries with backoff deliver every reminder, none twice."""
    ids = seed_due_reminders(session, pii, count, due_at=now_ms() - 1000)
    with Gateway(fail_rate=0.3) as gateway:
        processes = start_schedulers(3, scheduler_env(database_url, gateway.url, tmp_path))
        try:
            wait_until_sent(session, count, processes)
        finally:
            stop(processes)
    assert_exactly_once(gateway, ids)
    assert gateway.failed_calls > count * 0.2
    attempts = session.execute(select(func.sum(Reminder.attempts))).scalar_one()
    assert attempts == count + gateway.failed_calls  # every failed call was counted and retried


def test_killed_process_loses_nothing(session, pii, database_url, tmp_path, count):
    """A scheduler SIGKILLed in the middle of a send loses nothing: its leases expire and another sends."""
    ids = seed_due_reminders(session, pii, count, due_at=now_ms() - 1000)
    with Gateway() as gateway:
        env = scheduler_env(database_url, gateway.url, tmp_path)
        victim = start_schedulers(1, env)[0]
        gateway.hold_sender = f":{victim.pid}:"
        others = []
        try:
            assert gateway.held.wait(60), "the victim never sent"
            others = start_schedulers(2, env)
            victim.send_signal(signal.SIGKILL)
            victim.wait(10)
            gateway.release.set()
            wait_until_sent(session, count, others)
        finally:
            stop([victim, *others])
    assert_exactly_once(gateway, ids)
    held = session.get(Reminder, gateway.held_key)
    assert held.status == "sent" and held.attempts == 2  # claimed by the victim, then by a survivor
    senders_of_victim = [s for s in gateway.senders if f":{victim.pid}:" in s]
    assert senders_of_victim, "the victim did reach the gateway before it was killed"
