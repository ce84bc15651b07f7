"""One scheduler tick: leased housekeeping jobs, then the reminder outbox until it is empty."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from sync.accounts import ratelimit
from sync.follow_ups.overdue import mark_missed
from sync.payments.assessment import assess_all
from sync.pii import PiiProtector
from sync.protocol.clock import now_ms
from sync.reminders.channels import Channel
from sync.reminders.dispatch import TickReport, dispatch
from sync.reminders.settings import DispatchSettings
from sync.scheduler.jobs import Job, run_due_jobs

MINUTE_MS, HOUR_MS = 60_000, 3_600_000


def housekeeping_jobs(settings: DispatchSettings) -> list[Job]:
    """What runs on one instance per period: missed follow-ups each minute, payment planning and the purge
    of spent rate-limit windows hourly."""
    return [
        Job("mark_missed_follow_ups", MINUTE_MS, lambda s, t: mark_missed(s, now=t, grace_ms=settings.missed_grace_ms)),
        Job("plan_payment_reminders", HOUR_MS, lambda s, t: assess_all(s, now=t)),
        Job("purge_rate_limits", HOUR_MS, lambda s, t: ratelimit.purge(s, older_than_ms=t - HOUR_MS)),
    ]


def tick(
    factory: Callable[[], Session],
    *,
    channel: Channel,
    settings: DispatchSettings,
    pii: PiiProtector | None,
    me: str,
    now: int | None = None,
    budget_s: float | None = None,
    jobs: bool = True,
) -> TickReport:
    """Everything a tick does; safe to run on any number of instances at once."""
    ran = run_due_jobs(factory, housekeeping_jobs(settings), me=me, now=now or now_ms()) if jobs else []
    report = dispatch(factory, channel=channel, settings=settings, pii=pii, me=me, now=now, budget_s=budget_s)
    report.jobs = ran
    return report
