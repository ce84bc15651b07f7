"""One scheduler tick: leased housekeeping jobs, then the reminder outbox until it is empty."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from sync.accounts import ratelimit
from sync.enrollments.duplicates.model import DedupConfig, shipped_config
from sync.enrollments.duplicates.sweep import sweep
from sync.follow_ups.overdue import mark_missed
from sync.payments.assessment import assess_all
from sync.pii import PiiProtector
from sync.protocol.clock import now_ms
from sync.reminders.channels import Channel
from sync.reminders.dispatch import TickReport, dispatch
from sync.reminders.settings import DispatchSettings
from sync.scheduler.jobs import Job, run_due_jobs

MINUTE_MS, HOUR_MS = 60_000, 3_600_000


def housekeeping_jobs(
    settings: DispatchSettings, *, pii: PiiProtector | None = None, dedup: DedupConfig | None = None
) -> list[Job]:
    """What runs on one instance per period: missed follow-ups each minute; payment planning, the purge of
    spent rate-limit windows and the duplicate sweep (``dedup``: the matching model, default the shipped
    one; it needs the keys to read NIKs, so not without ``pii``) hourly."""
    jobs = [
        Job("mark_missed_follow_ups", MINUTE_MS, lambda s, t: mark_missed(s, now=t, grace_ms=settings.missed_grace_ms)),
        Job("plan_payment_reminders", HOUR_MS, lambda s, t: assess_all(s, now=t)),
        Job("purge_rate_limits", HOUR_MS, lambda s, t: ratelimit.purge(s, older_than_ms=t - HOUR_MS)),
    ]
    if pii is not None:
        model = dedup or shipped_config()
        jobs.append(Job("dedup_sweep", HOUR_MS, lambda s, t: sweep(s, pii, model)))
    return jobs


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
    dedup: DedupConfig | None = None,
) -> TickReport:
    """Everything a tick does; safe to run on any number of instances at once. ``dedup`` is the matching
    model the sweep job scores with (the server passes the one it read at start-up)."""
    due = housekeeping_jobs(settings, pii=pii, dedup=dedup)
    ran = run_due_jobs(factory, due, me=me, now=now or now_ms()) if jobs else []
    report = dispatch(factory, channel=channel, settings=settings, pii=pii, me=me, now=now, budget_s=budget_s)
    report.jobs = ran
    return report
